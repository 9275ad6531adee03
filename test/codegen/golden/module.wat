(module
 (type $0 (func (param i32 i32 i64 i32)))
 (type $1 (func (param i64 i32 i32 i32)))
 (type $2 (func (param i32 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
 (type $3 (func (param i32 i64 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i64 i64 i64 i64 i64) (result i64)))
 (import "env" "memory" (memory $memory 1))
 (import "env" "fault" (func $fault (param i32 i32 i64 i32)))
 (import "env" "mem_miss" (func $mem_miss (param i64 i32 i32 i32)))
 (global $stack_lo (mut i64) (i64.const 0))
 (global $pkt_lo (mut i64) (i64.const 0))
 (global $pkt_len (mut i64) (i64.const 0))
 (global $ret1 (mut i64) (i64.const 0))
 (global $ret2 (mut i64) (i64.const 0))
 (global $ret3 (mut i64) (i64.const 0))
 (global $ret4 (mut i64) (i64.const 0))
 (global $ret5 (mut i64) (i64.const 0))
 (global $rd0_lo (mut i64) (i64.const 0))
 (global $rd0_len (mut i64) (i64.const 0))
 (global $rd0_span1 (mut i64) (i64.const 0))
 (global $rd0_span2 (mut i64) (i64.const 0))
 (global $rd0_span4 (mut i64) (i64.const 0))
 (global $rd0_span8 (mut i64) (i64.const 0))
 (global $wr0_lo (mut i64) (i64.const 0))
 (global $wr0_len (mut i64) (i64.const 0))
 (global $wr0_span1 (mut i64) (i64.const 0))
 (global $wr0_span2 (mut i64) (i64.const 0))
 (global $wr0_span4 (mut i64) (i64.const 0))
 (global $wr0_span8 (mut i64) (i64.const 0))
 (global $rd1_lo (mut i64) (i64.const 0))
 (global $rd1_len (mut i64) (i64.const 0))
 (global $rd1_span1 (mut i64) (i64.const 0))
 (global $rd1_span2 (mut i64) (i64.const 0))
 (global $rd1_span4 (mut i64) (i64.const 0))
 (global $rd1_span8 (mut i64) (i64.const 0))
 (global $wr1_lo (mut i64) (i64.const 0))
 (global $wr1_len (mut i64) (i64.const 0))
 (global $wr1_span1 (mut i64) (i64.const 0))
 (global $wr1_span2 (mut i64) (i64.const 0))
 (global $wr1_span4 (mut i64) (i64.const 0))
 (global $wr1_span8 (mut i64) (i64.const 0))
 (global $rd2_lo (mut i64) (i64.const 0))
 (global $rd2_len (mut i64) (i64.const 0))
 (global $rd2_span1 (mut i64) (i64.const 0))
 (global $rd2_span2 (mut i64) (i64.const 0))
 (global $rd2_span4 (mut i64) (i64.const 0))
 (global $rd2_span8 (mut i64) (i64.const 0))
 (global $wr2_lo (mut i64) (i64.const 0))
 (global $wr2_len (mut i64) (i64.const 0))
 (global $wr2_span1 (mut i64) (i64.const 0))
 (global $wr2_span2 (mut i64) (i64.const 0))
 (global $wr2_span4 (mut i64) (i64.const 0))
 (global $wr2_span8 (mut i64) (i64.const 0))
 (global $rd3_lo (mut i64) (i64.const 0))
 (global $rd3_len (mut i64) (i64.const 0))
 (global $rd3_span1 (mut i64) (i64.const 0))
 (global $rd3_span2 (mut i64) (i64.const 0))
 (global $rd3_span4 (mut i64) (i64.const 0))
 (global $rd3_span8 (mut i64) (i64.const 0))
 (global $wr3_lo (mut i64) (i64.const 0))
 (global $wr3_len (mut i64) (i64.const 0))
 (global $wr3_span1 (mut i64) (i64.const 0))
 (global $wr3_span2 (mut i64) (i64.const 0))
 (global $wr3_span4 (mut i64) (i64.const 0))
 (global $wr3_span8 (mut i64) (i64.const 0))
 (export "run" (func $run))
 (func $f0 (param $fp i32) (param $r0 i64) (param $r1 i64) (param $r2 i64) (param $r3 i64) (param $r4 i64) (param $r5 i64) (param $r6 i64) (param $r7 i64) (param $r8 i64) (param $r9 i64) (result i64)
  (local $r10 i64)
  (local $addr i64)
  (local $tmp i64)
  (local $stack_lo i64)
  (local $label i32)
  (local.set $stack_lo
   (global.get $stack_lo)
  )
  (block
   (block
    (block
     (local.set $addr
      (i64.add
       (local.get $r1)
       (i64.const 4)
      )
     )
     (if
      (i64.lt_u
       (i64.sub
        (local.get $addr)
        (global.get $rd0_lo)
       )
       (global.get $rd0_span4)
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
         (global.get $rd1_span4)
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
           (global.get $rd2_span4)
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
             (global.get $rd3_span4)
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
               (call $mem_miss
                (local.get $addr)
                (i32.const 4)
                (i32.const 0)
                (i32.const 0)
               )
               (unreachable)
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
     (i64.load32_u align=1
      (i32.wrap_i64
       (local.get $addr)
      )
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
      (global.get $wr0_span1)
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
        (global.get $wr1_span1)
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
          (global.get $wr2_span1)
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
            (global.get $wr3_span1)
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
              (i64.const 4095)
             )
             (then
              (call $mem_miss
               (local.get $r1)
               (i32.const 1)
               (i32.const 1)
               (i32.const 1)
              )
              (unreachable)
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
    (i64.store8
     (i32.wrap_i64
      (local.get $r1)
     )
     (local.get $r0)
    )
   )
   (return
    (local.get $r0)
   )
  )
  (unreachable)
 )
 (func $run (param $stack_base i32) (param $budget i64) (param $pkt_lo i32) (param $pkt_len i32) (param $rd0_lo i32) (param $rd0_len i32) (param $rd1_lo i32) (param $rd1_len i32) (param $rd2_lo i32) (param $rd2_len i32) (param $rd3_lo i32) (param $rd3_len i32) (param $wr0_lo i32) (param $wr0_len i32) (param $wr1_lo i32) (param $wr1_len i32) (param $wr2_lo i32) (param $wr2_len i32) (param $wr3_lo i32) (param $wr3_len i32) (param $r1 i64) (param $r2 i64) (param $r3 i64) (param $r4 i64) (param $r5 i64) (result i64)
  (global.set $stack_lo
   (i64.extend_i32_u
    (local.get $stack_base)
   )
  )
  (global.set $pkt_lo
   (i64.extend_i32_u
    (local.get $pkt_lo)
   )
  )
  (global.set $pkt_len
   (i64.extend_i32_u
    (local.get $pkt_len)
   )
  )
  (global.set $rd0_lo
   (i64.extend_i32_u
    (local.get $rd0_lo)
   )
  )
  (global.set $rd0_len
   (i64.extend_i32_u
    (local.get $rd0_len)
   )
  )
  (global.set $rd0_span1
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd0_len)
     )
     (i64.const 1)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd0_len)
      )
      (i64.const 0)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd0_span2
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd0_len)
     )
     (i64.const 2)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd0_len)
      )
      (i64.const 1)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd0_span4
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd0_len)
     )
     (i64.const 4)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd0_len)
      )
      (i64.const 3)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd0_span8
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd0_len)
     )
     (i64.const 8)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd0_len)
      )
      (i64.const 7)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd1_lo
   (i64.extend_i32_u
    (local.get $rd1_lo)
   )
  )
  (global.set $rd1_len
   (i64.extend_i32_u
    (local.get $rd1_len)
   )
  )
  (global.set $rd1_span1
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd1_len)
     )
     (i64.const 1)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd1_len)
      )
      (i64.const 0)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd1_span2
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd1_len)
     )
     (i64.const 2)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd1_len)
      )
      (i64.const 1)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd1_span4
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd1_len)
     )
     (i64.const 4)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd1_len)
      )
      (i64.const 3)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd1_span8
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd1_len)
     )
     (i64.const 8)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd1_len)
      )
      (i64.const 7)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd2_lo
   (i64.extend_i32_u
    (local.get $rd2_lo)
   )
  )
  (global.set $rd2_len
   (i64.extend_i32_u
    (local.get $rd2_len)
   )
  )
  (global.set $rd2_span1
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd2_len)
     )
     (i64.const 1)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd2_len)
      )
      (i64.const 0)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd2_span2
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd2_len)
     )
     (i64.const 2)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd2_len)
      )
      (i64.const 1)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd2_span4
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd2_len)
     )
     (i64.const 4)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd2_len)
      )
      (i64.const 3)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd2_span8
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd2_len)
     )
     (i64.const 8)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd2_len)
      )
      (i64.const 7)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd3_lo
   (i64.extend_i32_u
    (local.get $rd3_lo)
   )
  )
  (global.set $rd3_len
   (i64.extend_i32_u
    (local.get $rd3_len)
   )
  )
  (global.set $rd3_span1
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd3_len)
     )
     (i64.const 1)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd3_len)
      )
      (i64.const 0)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd3_span2
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd3_len)
     )
     (i64.const 2)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd3_len)
      )
      (i64.const 1)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd3_span4
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd3_len)
     )
     (i64.const 4)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd3_len)
      )
      (i64.const 3)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $rd3_span8
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $rd3_len)
     )
     (i64.const 8)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $rd3_len)
      )
      (i64.const 7)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr0_lo
   (i64.extend_i32_u
    (local.get $wr0_lo)
   )
  )
  (global.set $wr0_len
   (i64.extend_i32_u
    (local.get $wr0_len)
   )
  )
  (global.set $wr0_span1
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr0_len)
     )
     (i64.const 1)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr0_len)
      )
      (i64.const 0)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr0_span2
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr0_len)
     )
     (i64.const 2)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr0_len)
      )
      (i64.const 1)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr0_span4
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr0_len)
     )
     (i64.const 4)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr0_len)
      )
      (i64.const 3)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr0_span8
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr0_len)
     )
     (i64.const 8)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr0_len)
      )
      (i64.const 7)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr1_lo
   (i64.extend_i32_u
    (local.get $wr1_lo)
   )
  )
  (global.set $wr1_len
   (i64.extend_i32_u
    (local.get $wr1_len)
   )
  )
  (global.set $wr1_span1
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr1_len)
     )
     (i64.const 1)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr1_len)
      )
      (i64.const 0)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr1_span2
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr1_len)
     )
     (i64.const 2)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr1_len)
      )
      (i64.const 1)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr1_span4
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr1_len)
     )
     (i64.const 4)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr1_len)
      )
      (i64.const 3)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr1_span8
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr1_len)
     )
     (i64.const 8)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr1_len)
      )
      (i64.const 7)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr2_lo
   (i64.extend_i32_u
    (local.get $wr2_lo)
   )
  )
  (global.set $wr2_len
   (i64.extend_i32_u
    (local.get $wr2_len)
   )
  )
  (global.set $wr2_span1
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr2_len)
     )
     (i64.const 1)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr2_len)
      )
      (i64.const 0)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr2_span2
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr2_len)
     )
     (i64.const 2)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr2_len)
      )
      (i64.const 1)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr2_span4
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr2_len)
     )
     (i64.const 4)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr2_len)
      )
      (i64.const 3)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr2_span8
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr2_len)
     )
     (i64.const 8)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr2_len)
      )
      (i64.const 7)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr3_lo
   (i64.extend_i32_u
    (local.get $wr3_lo)
   )
  )
  (global.set $wr3_len
   (i64.extend_i32_u
    (local.get $wr3_len)
   )
  )
  (global.set $wr3_span1
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr3_len)
     )
     (i64.const 1)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr3_len)
      )
      (i64.const 0)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr3_span2
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr3_len)
     )
     (i64.const 2)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr3_len)
      )
      (i64.const 1)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr3_span4
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr3_len)
     )
     (i64.const 4)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr3_len)
      )
      (i64.const 3)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (global.set $wr3_span8
   (if (result i64)
    (i64.ge_u
     (i64.extend_i32_u
      (local.get $wr3_len)
     )
     (i64.const 8)
    )
    (then
     (i64.sub
      (i64.extend_i32_u
       (local.get $wr3_len)
      )
      (i64.const 7)
     )
    )
    (else
     (i64.const 0)
    )
   )
  )
  (return
   (call $f0
    (i32.add
     (local.get $stack_base)
     (i32.const 4096)
    )
    (i64.const 0)
    (local.get $r1)
    (local.get $r2)
    (local.get $r3)
    (local.get $r4)
    (local.get $r5)
    (i64.const 0)
    (i64.const 0)
    (i64.const 0)
    (i64.const 0)
   )
  )
 )
)
