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
    (block $g0d
     (block $g0c
      (block $g0f
       (local.set $addr
        (i64.add
         (local.get $r1)
         (i64.const 12)
        )
       )
       (br_if $g0f
        (i32.and
         (i64.lt_u
          (i64.sub
           (local.get $addr)
           (global.get $wr0_lo)
          )
          (global.get $wr0_span1)
         )
         (i64.lt_u
          (i64.sub
           (i64.add
            (local.get $addr)
            (i64.const 17)
           )
           (global.get $wr0_lo)
          )
          (global.get $wr0_span1)
         )
        )
       )
       (br_if $g0f
        (i32.and
         (i64.lt_u
          (i64.sub
           (local.get $addr)
           (global.get $wr1_lo)
          )
          (global.get $wr1_span1)
         )
         (i64.lt_u
          (i64.sub
           (i64.add
            (local.get $addr)
            (i64.const 17)
           )
           (global.get $wr1_lo)
          )
          (global.get $wr1_span1)
         )
        )
       )
       (br_if $g0f
        (i32.and
         (i64.lt_u
          (i64.sub
           (local.get $addr)
           (global.get $wr2_lo)
          )
          (global.get $wr2_span1)
         )
         (i64.lt_u
          (i64.sub
           (i64.add
            (local.get $addr)
            (i64.const 17)
           )
           (global.get $wr2_lo)
          )
          (global.get $wr2_span1)
         )
        )
       )
       (br_if $g0f
        (i32.and
         (i64.lt_u
          (i64.sub
           (local.get $addr)
           (global.get $wr3_lo)
          )
          (global.get $wr3_span1)
         )
         (i64.lt_u
          (i64.sub
           (i64.add
            (local.get $addr)
            (i64.const 17)
           )
           (global.get $wr3_lo)
          )
          (global.get $wr3_span1)
         )
        )
       )
       (br $g0c)
      )
      (block
       (local.set $r0
        (i64.load16_u align=1
         (i32.add
          (i32.wrap_i64
           (local.get $r1)
          )
          (i32.const 12)
         )
        )
       )
       (local.set $r2
        (i64.load8_u
         (i32.add
          (i32.wrap_i64
           (local.get $r1)
          )
          (i32.const 23)
         )
        )
       )
       (local.set $r0
        (i64.add
         (local.get $r0)
         (local.get $r2)
        )
       )
       (i64.store32 align=1
        (i32.add
         (i32.wrap_i64
          (local.get $r1)
         )
         (i32.const 26)
        )
        (local.get $r0)
       )
      )
      (br $g0d)
     )
     (block
      (block
       (block
        (local.set $addr
         (i64.add
          (local.get $r1)
          (i64.const 12)
         )
        )
        (if
         (i64.lt_u
          (i64.sub
           (local.get $addr)
           (global.get $rd0_lo)
          )
          (global.get $rd0_span2)
         )
         (then
          (nop)
         )
         (else
          (if
           (i64.lt_u
            (i64.sub
             (local.get $addr)
             (global.get $rd1_lo)
            )
            (global.get $rd1_span2)
           )
           (then
            (nop)
           )
           (else
            (if
             (i64.lt_u
              (i64.sub
               (local.get $addr)
               (global.get $rd2_lo)
              )
              (global.get $rd2_span2)
             )
             (then
              (nop)
             )
             (else
              (if
               (i64.lt_u
                (i64.sub
                 (local.get $addr)
                 (global.get $rd3_lo)
                )
                (global.get $rd3_span2)
               )
               (then
                (nop)
               )
               (else
                (if
                 (i64.gt_u
                  (i64.sub
                   (local.get $addr)
                   (local.get $stack_lo)
                  )
                  (i64.const 4094)
                 )
                 (then
                  (local.set $addr
                   (local.get $addr)
                  )
                  (local.set $fault
                   (i64.const 517)
                  )
                  (br $trap)
                 )
                )
               )
              )
             )
            )
           )
          )
         )
        )
       )
       (local.set $r0
        (i64.load16_u align=1
         (i32.wrap_i64
          (local.get $addr)
         )
        )
       )
      )
      (block
       (block
        (local.set $addr
         (i64.add
          (local.get $r1)
          (i64.const 23)
         )
        )
        (if
         (i64.lt_u
          (i64.sub
           (local.get $addr)
           (global.get $rd0_lo)
          )
          (global.get $rd0_span1)
         )
         (then
          (nop)
         )
         (else
          (if
           (i64.lt_u
            (i64.sub
             (local.get $addr)
             (global.get $rd1_lo)
            )
            (global.get $rd1_span1)
           )
           (then
            (nop)
           )
           (else
            (if
             (i64.lt_u
              (i64.sub
               (local.get $addr)
               (global.get $rd2_lo)
              )
              (global.get $rd2_span1)
             )
             (then
              (nop)
             )
             (else
              (if
               (i64.lt_u
                (i64.sub
                 (local.get $addr)
                 (global.get $rd3_lo)
                )
                (global.get $rd3_span1)
               )
               (then
                (nop)
               )
               (else
                (if
                 (i64.gt_u
                  (i64.sub
                   (local.get $addr)
                   (local.get $stack_lo)
                  )
                  (i64.const 4095)
                 )
                 (then
                  (local.set $addr
                   (local.get $addr)
                  )
                  (local.set $fault
                   (i64.const 4294967557)
                  )
                  (br $trap)
                 )
                )
               )
              )
             )
            )
           )
          )
         )
        )
       )
       (local.set $r2
        (i64.load8_u
         (i32.wrap_i64
          (local.get $addr)
         )
        )
       )
      )
      (local.set $r0
       (i64.add
        (local.get $r0)
        (local.get $r2)
       )
      )
      (block
       (block
        (local.set $addr
         (i64.add
          (local.get $r1)
          (i64.const 26)
         )
        )
        (if
         (i64.lt_u
          (i64.sub
           (local.get $addr)
           (global.get $wr0_lo)
          )
          (global.get $wr0_span4)
         )
         (then
          (nop)
         )
         (else
          (if
           (i64.lt_u
            (i64.sub
             (local.get $addr)
             (global.get $wr1_lo)
            )
            (global.get $wr1_span4)
           )
           (then
            (nop)
           )
           (else
            (if
             (i64.lt_u
              (i64.sub
               (local.get $addr)
               (global.get $wr2_lo)
              )
              (global.get $wr2_span4)
             )
             (then
              (nop)
             )
             (else
              (if
               (i64.lt_u
                (i64.sub
                 (local.get $addr)
                 (global.get $wr3_lo)
                )
                (global.get $wr3_span4)
               )
               (then
                (nop)
               )
               (else
                (if
                 (i64.gt_u
                  (i64.sub
                   (local.get $addr)
                   (local.get $stack_lo)
                  )
                  (i64.const 4092)
                 )
                 (then
                  (local.set $addr
                   (local.get $addr)
                  )
                  (local.set $fault
                   (i64.const 12884902918)
                  )
                  (br $trap)
                 )
                 (else
                  (global.set $dirty
                   (i32.const 1)
                  )
                 )
                )
               )
              )
             )
            )
           )
          )
         )
        )
       )
       (i64.store32 align=1
        (i32.wrap_i64
         (local.get $addr)
        )
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
