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
    (local.set $r6
     (local.get $r1)
    )
    (block
     (global.set $dirty
      (i32.const 1)
     )
     (local.set $r0
      (call $helper_5
       (i32.const 1)
       (local.get $r1)
       (local.get $r2)
       (local.get $r3)
       (local.get $r4)
       (local.get $r5)
      )
     )
     (if
      (global.get $stop)
      (then
       (return
        (local.get $r0)
       )
      )
     )
    )
    (block
     (if
      (i32.lt_u
       (local.get $fp)
       (i32.add
        (i32.wrap_i64
         (local.get $stack_lo)
        )
        (i32.const 1024)
       )
      )
      (then
       (local.set $fault
        (i64.const 8589934594)
       )
       (br $trap)
      )
     )
     (global.set $dirty
      (i32.const 1)
     )
     (local.set $r0
      (call $f5
       (i32.sub
        (local.get $fp)
        (i32.const 512)
       )
       (local.get $r0)
       (local.get $r1)
       (local.get $r2)
       (local.get $r3)
       (local.get $r4)
       (local.get $r5)
       (local.get $r6)
       (local.get $r7)
       (local.get $r8)
       (local.get $r9)
      )
     )
     (if
      (global.get $stop)
      (then
       (return
        (local.get $r0)
       )
      )
     )
     (local.set $r1
      (global.get $ret1)
     )
     (local.set $r2
      (global.get $ret2)
     )
     (local.set $r3
      (global.get $ret3)
     )
     (local.set $r4
      (global.get $ret4)
     )
     (local.set $r5
      (global.get $ret5)
     )
    )
    (local.set $r0
     (i64.add
      (local.get $r0)
      (local.get $r6)
     )
    )
    (return
     (local.get $r0)
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
 (func $f5 (param $fp i32) (param $r0 i64) (param $r1 i64) (param $r2 i64) (param $r3 i64) (param $r4 i64) (param $r5 i64) (param $r6 i64) (param $r7 i64) (param $r8 i64) (param $r9 i64) (result i64)
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
    (local.set $r0
     (local.get $r1)
    )
    (block
     (global.set $dirty
      (i32.const 1)
     )
     (local.set $r0
      (call $callx
       (i32.const 6)
       (local.get $r2)
       (local.get $r1)
       (local.get $r2)
       (local.get $r3)
       (local.get $r4)
       (local.get $r5)
      )
     )
     (if
      (global.get $stop)
      (then
       (return
        (local.get $r0)
       )
      )
     )
    )
    (block
     (global.set $ret1
      (local.get $r1)
     )
     (global.set $ret2
      (local.get $r2)
     )
     (global.set $ret3
      (local.get $r3)
     )
     (global.set $ret4
      (local.get $r4)
     )
     (global.set $ret5
      (local.get $r5)
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
