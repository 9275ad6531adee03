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
    (local.set $r0
     (local.get $r1)
    )
    (local.set $r0
     (i64.add
      (local.get $r0)
      (i64.const 5)
     )
    )
    (local.set $r0
     (if (result i64)
      (i64.eqz
       (local.get $r2)
      )
      (then
       (i64.const 0)
      )
      (else
       (i64.div_u
        (local.get $r0)
        (local.get $r2)
       )
      )
     )
    )
    (local.set $r0
     (i64.extend_i32_u
      (i32.sub
       (i32.const 0)
       (i32.wrap_i64
        (local.get $r0)
       )
      )
     )
    )
    (local.set $r0
     (if (result i64)
      (i64.eqz
       (local.get $r2)
      )
      (then
       (local.get $r0)
      )
      (else
       (i64.rem_u
        (local.get $r0)
        (local.get $r2)
       )
      )
     )
    )
    (local.set $r0
     (i64.extend_i32_u
      (i32.shr_s
       (i32.wrap_i64
        (local.get $r0)
       )
       (i32.const 3)
      )
     )
    )
    (local.set $r0
     (i64.extend_i32_u
      (i32.or
       (i32.rotr
        (i32.and
         (i32.wrap_i64
          (local.get $r0)
         )
         (i32.const 16711935)
        )
        (i32.const 8)
       )
       (i32.rotl
        (i32.and
         (i32.wrap_i64
          (local.get $r0)
         )
         (i32.const -16711936)
        )
        (i32.const 8)
       )
      )
     )
    )
    (local.set $r0
     (i64.rotl
      (i64.or
       (i64.and
        (i64.shr_u
         (local.tee $tmp
          (i64.or
           (i64.and
            (i64.shr_u
             (local.tee $tmp
              (local.get $r0)
             )
             (i64.const 8)
            )
            (i64.const 71777214294589695)
           )
           (i64.shl
            (i64.and
             (local.get $tmp)
             (i64.const 71777214294589695)
            )
            (i64.const 8)
           )
          )
         )
         (i64.const 16)
        )
        (i64.const 281470681808895)
       )
       (i64.shl
        (i64.and
         (local.get $tmp)
         (i64.const 281470681808895)
        )
        (i64.const 16)
       )
      )
      (i64.const 32)
     )
    )
    (local.set $r0
     (i64.extend16_s
      (local.get $r0)
     )
    )
    (local.set $r0
     (i64.extend_i32_u
      (i32.sub
       (i32.const 0)
       (i32.wrap_i64
        (local.get $r0)
       )
      )
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
