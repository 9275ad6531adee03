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
     (block $block$2$break
      (block $block$3$break
       (local.set $r0
        (i64.const 0)
       )
       (if
        (i64.eq
         (local.get $r2)
         (i64.const 0)
        )
        (then
         (local.set $label
          (i32.const 3)
         )
         (br $block$3$break)
        )
        (else
         (local.set $label
          (i32.const 2)
         )
         (br $block$2$break)
        )
       )
      )
     )
    )
    (block
     (block $block$4$break
      (loop $shape$1$continue
       (if
        (i32.eq
         (local.get $label)
         (i32.const 2)
        )
        (then
         (local.set $label
          (i32.const 0)
         )
         (local.set $r0
          (i64.add
           (local.get $r0)
           (i64.const 1)
          )
         )
         (if
          (i64.eq
           (local.get $r0)
           (i64.const 9)
          )
          (then
           (br $block$4$break)
          )
          (else
           (local.set $label
            (i32.const 3)
           )
           (br $shape$1$continue)
          )
         )
        )
        (else
         (if
          (i32.eq
           (local.get $label)
           (i32.const 3)
          )
          (then
           (local.set $label
            (i32.const 0)
           )
           (local.set $r0
            (i64.add
             (local.get $r0)
             (i64.const 2)
            )
           )
           (if
            (i64.lt_u
             (local.get $r0)
             (i64.const 20)
            )
            (then
             (local.set $label
              (i32.const 2)
             )
             (br $shape$1$continue)
            )
            (else
             (br $block$4$break)
            )
           )
          )
         )
        )
       )
      )
     )
     (block
      (return
       (local.get $r0)
      )
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
