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
    (local.set $r3
     (i64.const 1)
    )
    (block
     (if
      (i32.and
       (i32.add
        (local.get $fp)
        (i32.const -8)
       )
       (i32.const 7)
      )
      (then
       (local.set $addr
        (i64.extend_i32_u
         (i32.add
          (local.get $fp)
          (i32.const -8)
         )
        )
       )
       (local.set $fault
        (i64.const 4294969344)
       )
       (br $trap)
      )
     )
     (local.set $r3
      (i64.atomic.rmw.add
       (i32.add
        (local.get $fp)
        (i32.const -8)
       )
       (local.get $r3)
      )
     )
    )
    (block
     (if
      (i64.lt_u
       (i64.sub
        (local.get $r1)
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
          (local.get $r1)
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
            (local.get $r1)
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
              (local.get $r1)
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
                (local.get $r1)
                (local.get $stack_lo)
               )
               (i64.const 4092)
              )
              (then
               (local.set $addr
                (local.get $r1)
               )
               (local.set $fault
                (i64.const 8589935622)
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
     (if
      (i32.and
       (i32.wrap_i64
        (local.get $r1)
       )
       (i32.const 3)
      )
      (then
       (local.set $addr
        (i64.extend_i32_u
         (i32.wrap_i64
          (local.get $r1)
         )
        )
       )
       (local.set $fault
        (i64.const 8589935616)
       )
       (br $trap)
      )
     )
     (local.set $r0
      (i64.atomic.rmw32.cmpxchg_u
       (i32.wrap_i64
        (local.get $r1)
       )
       (local.get $r0)
       (local.get $r3)
      )
     )
    )
    (block
     (local.set $addr
      (i64.extend_i32_s
       (i32.const 12)
      )
     )
     (if
      (i32.or
       (i64.lt_s
        (local.get $addr)
        (i64.const 0)
       )
       (i64.gt_s
        (i64.add
         (local.get $addr)
         (i64.const 2)
        )
        (global.get $pkt_len)
       )
      )
      (then
       (global.set $stop
        (i32.const 1)
       )
       (return
        (i64.const 0)
       )
      )
     )
     (block
      (local.set $tmp
       (i64.load16_u align=1
        (i32.wrap_i64
         (i64.add
          (global.get $pkt_lo)
          (local.get $addr)
         )
        )
       )
      )
      (local.set $r0
       (i64.extend_i32_u
        (i32.or
         (i32.and
          (i32.shr_u
           (i32.wrap_i64
            (local.get $tmp)
           )
           (i32.const 8)
          )
          (i32.const 255)
         )
         (i32.and
          (i32.shl
           (i32.wrap_i64
            (local.get $tmp)
           )
           (i32.const 8)
          )
          (i32.const 65280)
         )
        )
       )
      )
     )
    )
    (block
     (local.set $addr
      (i64.extend_i32_s
       (i32.add
        (i32.wrap_i64
         (local.get $r3)
        )
        (i32.const 2)
       )
      )
     )
     (if
      (i32.or
       (i64.lt_s
        (local.get $addr)
        (i64.const 0)
       )
       (i64.gt_s
        (i64.add
         (local.get $addr)
         (i64.const 4)
        )
        (global.get $pkt_len)
       )
      )
      (then
       (global.set $stop
        (i32.const 1)
       )
       (return
        (i64.const 0)
       )
      )
     )
     (block
      (local.set $tmp
       (i64.load32_u align=1
        (i32.wrap_i64
         (i64.add
          (global.get $pkt_lo)
          (local.get $addr)
         )
        )
       )
      )
      (local.set $r0
       (i64.extend_i32_u
        (i32.or
         (i32.rotr
          (i32.and
           (i32.wrap_i64
            (local.get $tmp)
           )
           (i32.const 16711935)
          )
          (i32.const 8)
         )
         (i32.rotl
          (i32.and
           (i32.wrap_i64
            (local.get $tmp)
           )
           (i32.const -16711936)
          )
          (i32.const 8)
         )
        )
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
