 (func $f0 (param $fp i32) (param $r0 i64) (param $r1 i64) (param $r2 i64) (param $r3 i64) (param $r4 i64) (param $r5 i64) (param $r6 i64) (param $r7 i64) (param $r8 i64) (param $r9 i64) (result i64)
  (local $r10 i64)
  (local $addr i64)
  (local $tmp i64)
  (local $stack_lo i64)
  (local $label i32)
  (local $fault i64)
  (block $trap
   (local.set $stack_lo
    (global.get $stack_lo)
   )
   (block
    (block
     (local.set $r0
      (i64.const 0)
     )
     (local.set $r2
      (i64.const 64)
     )
    )
    (loop $L2
     (block
      (local.set $r0
       (i64.add
        (local.get $r0)
        (local.get $r2)
       )
      )
      (local.set $r2
       (i64.sub
        (local.get $r2)
        (i64.const 1)
       )
      )
     )
     (if
      (i64.ne
       (local.get $r2)
       (i64.const 0)
      )
      (then
       (block
        (if
         (i64.eqz
          (global.get $budget)
         )
         (then
          (local.set $fault
           (i64.const 17179869185)
          )
          (br $trap)
         )
        )
        (global.set $budget
         (i64.sub
          (global.get $budget)
          (i64.const 1)
         )
        )
       )
       (br $L2)
      )
     )
     (return
      (local.get $r0)
     )
    )
   )
   (unreachable)
  )
  (global.set $fault_what
   (i32.wrap_i64
    (local.get $fault)
   )
  )
  (global.set $fault_addr
   (local.get $addr)
  )
  (global.set $fault_pc
   (i32.wrap_i64
    (i64.shr_u
     (local.get $fault)
     (i64.const 32)
    )
   )
  )
  (unreachable)
 )
