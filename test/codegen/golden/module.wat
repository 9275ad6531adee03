(module
 (type $0 (func (param i32 i32) (result i32)))
 (type $1 (func (param i32 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
 (type $2 (func (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)))
 (type $3 (func (param i64 i32 i32 i64 i64 i64 i64 i64) (result i64)))
 (import "env" "memory" (memory $memory 1))
 (global $stack_lo (mut i64) (i64.const 0))
 (global $ret1 (mut i64) (i64.const 0))
 (global $ret2 (mut i64) (i64.const 0))
 (global $ret3 (mut i64) (i64.const 0))
 (global $ret4 (mut i64) (i64.const 0))
 (global $ret5 (mut i64) (i64.const 0))
 (global $dirty (mut i32) (i32.const 1))
 (global $fault_pc (mut i32) (i32.const -1))
 (global $fault_what (mut i32) (i32.const 0))
 (global $fault_addr (mut i64) (i64.const 0))
 (global $pk_stack (mut i32) (i32.const 0))
 (global $pk_data (mut i32) (i32.const 0))
 (global $pk_offsets (mut i32) (i32.const 0))
 (global $pk_results (mut i32) (i32.const 0))
 (global $pk_wire (mut i32) (i32.const 0))
 (global $batch_pos (mut i32) (i32.const 0))
 (global $pk_writable (mut i64) (i64.const 0))
 (global $rd0_lo (mut i64) (i64.const 0))
 (global $rd0_span4 (mut i64) (i64.const 0))
 (global $wr0_lo (mut i64) (i64.const 0))
 (global $wr0_span1 (mut i64) (i64.const 0))
 (global $wr0_span8 (mut i64) (i64.const 0))
 (global $rd1_lo (mut i64) (i64.const 0))
 (global $rd1_span4 (mut i64) (i64.const 0))
 (global $wr1_lo (mut i64) (i64.const 0))
 (global $wr1_span1 (mut i64) (i64.const 0))
 (global $wr1_span8 (mut i64) (i64.const 0))
 (global $rd2_lo (mut i64) (i64.const 0))
 (global $rd2_span4 (mut i64) (i64.const 0))
 (global $wr2_lo (mut i64) (i64.const 0))
 (global $wr2_span1 (mut i64) (i64.const 0))
 (global $wr2_span8 (mut i64) (i64.const 0))
 (global $rd3_lo (mut i64) (i64.const 0))
 (global $rd3_span4 (mut i64) (i64.const 0))
 (global $wr3_lo (mut i64) (i64.const 0))
 (global $wr3_span1 (mut i64) (i64.const 0))
 (global $wr3_span8 (mut i64) (i64.const 0))
 (export "fault_pc" (global $fault_pc))
 (export "fault_what" (global $fault_what))
 (export "fault_addr" (global $fault_addr))
 (export "bind" (func $bind))
 (export "run" (func $run))
 (export "run_packet" (func $run_packet))
 (export "run_batch" (func $run_batch))
 (export "batch_pos" (global $batch_pos))
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
         (i64.const 0)
        )
       )
       (br_if $g0f
        (i64.lt_u
         (i64.sub
          (local.get $addr)
          (global.get $wr0_lo)
         )
         (global.get $wr0_span8)
        )
       )
       (br_if $g0f
        (i64.lt_u
         (i64.sub
          (local.get $addr)
          (global.get $wr1_lo)
         )
         (global.get $wr1_span8)
        )
       )
       (br_if $g0f
        (i64.lt_u
         (i64.sub
          (local.get $addr)
          (global.get $wr2_lo)
         )
         (global.get $wr2_span8)
        )
       )
       (br_if $g0f
        (i64.lt_u
         (i64.sub
          (local.get $addr)
          (global.get $wr3_lo)
         )
         (global.get $wr3_span8)
        )
       )
       (br $g0c)
      )
      (block
       (local.set $r0
        (i64.load32_u align=1
         (i32.add
          (i32.wrap_i64
           (local.get $r1)
          )
          (i32.const 4)
         )
        )
       )
       (i64.store8
        (i32.add
         (i32.wrap_i64
          (local.get $r1)
         )
         (i32.const 0)
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
                  (local.set $addr
                   (local.get $addr)
                  )
                  (local.set $fault
                   (i64.const 1029)
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
                 (local.set $addr
                  (local.get $r1)
                 )
                 (local.set $fault
                  (i64.const 4294967558)
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
       (i64.store8
        (i32.wrap_i64
         (local.get $r1)
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
 (func $bind (param $stack i32) (param $data i32) (param $offsets i32) (param $results i32) (param $writable i32) (param $budget_lo i32) (param $budget_hi i32) (param $ctx i32) (param $ctx_template i32) (param $wire i32) (param $rd0_lo i32) (param $rd0_span1 i32) (param $rd0_span2 i32) (param $rd0_span4 i32) (param $rd0_span8 i32) (param $rd1_lo i32) (param $rd1_span1 i32) (param $rd1_span2 i32) (param $rd1_span4 i32) (param $rd1_span8 i32) (param $rd2_lo i32) (param $rd2_span1 i32) (param $rd2_span2 i32) (param $rd2_span4 i32) (param $rd2_span8 i32) (param $rd3_lo i32) (param $rd3_span1 i32) (param $rd3_span2 i32) (param $rd3_span4 i32) (param $rd3_span8 i32) (param $wr0_lo i32) (param $wr0_span1 i32) (param $wr0_span2 i32) (param $wr0_span4 i32) (param $wr0_span8 i32) (param $wr1_lo i32) (param $wr1_span1 i32) (param $wr1_span2 i32) (param $wr1_span4 i32) (param $wr1_span8 i32) (param $wr2_lo i32) (param $wr2_span1 i32) (param $wr2_span2 i32) (param $wr2_span4 i32) (param $wr2_span8 i32) (param $wr3_lo i32) (param $wr3_span1 i32) (param $wr3_span2 i32) (param $wr3_span4 i32) (param $wr3_span8 i32)
  (global.set $stack_lo
   (i64.extend_i32_u
    (local.get $stack)
   )
  )
  (global.set $pk_stack
   (local.get $stack)
  )
  (global.set $pk_data
   (local.get $data)
  )
  (global.set $pk_offsets
   (local.get $offsets)
  )
  (global.set $pk_results
   (local.get $results)
  )
  (global.set $pk_writable
   (select
    (i64.const -1)
    (i64.const 0)
    (local.get $writable)
   )
  )
  (global.set $dirty
   (i32.const 1)
  )
  (global.set $pk_wire
   (local.get $wire)
  )
  (global.set $rd0_lo
   (i64.extend_i32_u
    (local.get $rd0_lo)
   )
  )
  (global.set $rd0_span4
   (i64.extend_i32_u
    (local.get $rd0_span4)
   )
  )
  (global.set $rd1_lo
   (i64.extend_i32_u
    (local.get $rd1_lo)
   )
  )
  (global.set $rd1_span4
   (i64.extend_i32_u
    (local.get $rd1_span4)
   )
  )
  (global.set $rd2_lo
   (i64.extend_i32_u
    (local.get $rd2_lo)
   )
  )
  (global.set $rd2_span4
   (i64.extend_i32_u
    (local.get $rd2_span4)
   )
  )
  (global.set $rd3_lo
   (i64.extend_i32_u
    (local.get $rd3_lo)
   )
  )
  (global.set $rd3_span4
   (i64.extend_i32_u
    (local.get $rd3_span4)
   )
  )
  (global.set $wr0_lo
   (i64.extend_i32_u
    (local.get $wr0_lo)
   )
  )
  (global.set $wr0_span1
   (i64.extend_i32_u
    (local.get $wr0_span1)
   )
  )
  (global.set $wr0_span8
   (i64.extend_i32_u
    (local.get $wr0_span8)
   )
  )
  (global.set $wr1_lo
   (i64.extend_i32_u
    (local.get $wr1_lo)
   )
  )
  (global.set $wr1_span1
   (i64.extend_i32_u
    (local.get $wr1_span1)
   )
  )
  (global.set $wr1_span8
   (i64.extend_i32_u
    (local.get $wr1_span8)
   )
  )
  (global.set $wr2_lo
   (i64.extend_i32_u
    (local.get $wr2_lo)
   )
  )
  (global.set $wr2_span1
   (i64.extend_i32_u
    (local.get $wr2_span1)
   )
  )
  (global.set $wr2_span8
   (i64.extend_i32_u
    (local.get $wr2_span8)
   )
  )
  (global.set $wr3_lo
   (i64.extend_i32_u
    (local.get $wr3_lo)
   )
  )
  (global.set $wr3_span1
   (i64.extend_i32_u
    (local.get $wr3_span1)
   )
  )
  (global.set $wr3_span8
   (i64.extend_i32_u
    (local.get $wr3_span8)
   )
  )
 )
 (func $run (param $budget i64) (param $pkt_lo i32) (param $pkt_len i32) (param $r1 i64) (param $r2 i64) (param $r3 i64) (param $r4 i64) (param $r5 i64) (result i64)
  (return
   (call $f0
    (i32.add
     (global.get $pk_stack)
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
 (func $run_packet (param $len i32) (param $wire i32) (result i32)
  (local $span i64)
  (local $mask i64)
  (local $p i32)
  (global.set $rd0_lo
   (i64.extend_i32_u
    (global.get $pk_data)
   )
  )
  (global.set $wr0_lo
   (i64.extend_i32_u
    (global.get $pk_data)
   )
  )
  (local.set $mask
   (global.get $pk_writable)
  )
  (local.set $span
   (select
    (i64.extend_i32_u
     (i32.sub
      (local.get $len)
      (i32.const 0)
     )
    )
    (i64.const 0)
    (i32.ge_u
     (local.get $len)
     (i32.const 1)
    )
   )
  )
  (global.set $wr0_span1
   (i64.and
    (local.get $span)
    (local.get $mask)
   )
  )
  (local.set $span
   (select
    (i64.extend_i32_u
     (i32.sub
      (local.get $len)
      (i32.const 3)
     )
    )
    (i64.const 0)
    (i32.ge_u
     (local.get $len)
     (i32.const 4)
    )
   )
  )
  (global.set $rd0_span4
   (local.get $span)
  )
  (local.set $span
   (select
    (i64.extend_i32_u
     (i32.sub
      (local.get $len)
      (i32.const 7)
     )
    )
    (i64.const 0)
    (i32.ge_u
     (local.get $len)
     (i32.const 8)
    )
   )
  )
  (global.set $wr0_span8
   (i64.and
    (local.get $span)
    (local.get $mask)
   )
  )
  (if
   (global.get $dirty)
   (then
    (block
     (local.set $p
      (global.get $pk_stack)
     )
     (loop $zero
      (i64.store align=1
       (local.get $p)
       (i64.const 0)
      )
      (i64.store offset=8 align=1
       (local.get $p)
       (i64.const 0)
      )
      (i64.store offset=16 align=1
       (local.get $p)
       (i64.const 0)
      )
      (i64.store offset=24 align=1
       (local.get $p)
       (i64.const 0)
      )
      (i64.store offset=32 align=1
       (local.get $p)
       (i64.const 0)
      )
      (i64.store offset=40 align=1
       (local.get $p)
       (i64.const 0)
      )
      (i64.store offset=48 align=1
       (local.get $p)
       (i64.const 0)
      )
      (i64.store offset=56 align=1
       (local.get $p)
       (i64.const 0)
      )
      (local.set $p
       (i32.add
        (local.get $p)
        (i32.const 64)
       )
      )
      (br_if $zero
       (i32.lt_u
        (local.get $p)
        (i32.add
         (global.get $pk_stack)
         (i32.const 4096)
        )
       )
      )
     )
    )
    (global.set $dirty
     (i32.const 0)
    )
   )
   (else
    (nop)
   )
  )
  (return
   (i32.wrap_i64
    (call $f0
     (i32.add
      (global.get $pk_stack)
      (i32.const 4096)
     )
     (i64.const 0)
     (i64.extend_i32_u
      (global.get $pk_data)
     )
     (i64.extend_i32_u
      (local.get $len)
     )
     (i64.extend_i32_u
      (local.get $wire)
     )
     (i64.const 0)
     (i64.const 0)
     (i64.const 0)
     (i64.const 0)
     (i64.const 0)
     (i64.const 0)
    )
   )
  )
 )
 (func $run_batch (param $first i32) (param $count i32) (result i32)
  (local $lo i32)
  (local $len i32)
  (local $span i64)
  (local $mask i64)
  (local $p i32)
  (block $done
   (loop $next
    (br_if $done
     (i32.ge_u
      (local.get $first)
      (local.get $count)
     )
    )
    (global.set $batch_pos
     (local.get $first)
    )
    (local.set $lo
     (i32.add
      (global.get $pk_data)
      (i32.load
       (i32.add
        (global.get $pk_offsets)
        (i32.shl
         (local.get $first)
         (i32.const 2)
        )
       )
      )
     )
    )
    (local.set $len
     (i32.sub
      (i32.add
       (global.get $pk_data)
       (i32.load offset=4
        (i32.add
         (global.get $pk_offsets)
         (i32.shl
          (local.get $first)
          (i32.const 2)
         )
        )
       )
      )
      (local.get $lo)
     )
    )
    (global.set $rd0_lo
     (i64.extend_i32_u
      (local.get $lo)
     )
    )
    (global.set $wr0_lo
     (i64.extend_i32_u
      (local.get $lo)
     )
    )
    (local.set $mask
     (global.get $pk_writable)
    )
    (local.set $span
     (select
      (i64.extend_i32_u
       (i32.sub
        (local.get $len)
        (i32.const 0)
       )
      )
      (i64.const 0)
      (i32.ge_u
       (local.get $len)
       (i32.const 1)
      )
     )
    )
    (global.set $wr0_span1
     (i64.and
      (local.get $span)
      (local.get $mask)
     )
    )
    (local.set $span
     (select
      (i64.extend_i32_u
       (i32.sub
        (local.get $len)
        (i32.const 3)
       )
      )
      (i64.const 0)
      (i32.ge_u
       (local.get $len)
       (i32.const 4)
      )
     )
    )
    (global.set $rd0_span4
     (local.get $span)
    )
    (local.set $span
     (select
      (i64.extend_i32_u
       (i32.sub
        (local.get $len)
        (i32.const 7)
       )
      )
      (i64.const 0)
      (i32.ge_u
       (local.get $len)
       (i32.const 8)
      )
     )
    )
    (global.set $wr0_span8
     (i64.and
      (local.get $span)
      (local.get $mask)
     )
    )
    (if
     (global.get $dirty)
     (then
      (block
       (local.set $p
        (global.get $pk_stack)
       )
       (loop $zero
        (i64.store align=1
         (local.get $p)
         (i64.const 0)
        )
        (i64.store offset=8 align=1
         (local.get $p)
         (i64.const 0)
        )
        (i64.store offset=16 align=1
         (local.get $p)
         (i64.const 0)
        )
        (i64.store offset=24 align=1
         (local.get $p)
         (i64.const 0)
        )
        (i64.store offset=32 align=1
         (local.get $p)
         (i64.const 0)
        )
        (i64.store offset=40 align=1
         (local.get $p)
         (i64.const 0)
        )
        (i64.store offset=48 align=1
         (local.get $p)
         (i64.const 0)
        )
        (i64.store offset=56 align=1
         (local.get $p)
         (i64.const 0)
        )
        (local.set $p
         (i32.add
          (local.get $p)
          (i32.const 64)
         )
        )
        (br_if $zero
         (i32.lt_u
          (local.get $p)
          (i32.add
           (global.get $pk_stack)
           (i32.const 4096)
          )
         )
        )
       )
      )
      (global.set $dirty
       (i32.const 0)
      )
     )
     (else
      (nop)
     )
    )
    (i32.store
     (i32.add
      (global.get $pk_results)
      (i32.shl
       (local.get $first)
       (i32.const 2)
      )
     )
     (i32.wrap_i64
      (call $f0
       (i32.add
        (global.get $pk_stack)
        (i32.const 4096)
       )
       (i64.const 0)
       (i64.extend_i32_u
        (local.get $lo)
       )
       (i64.extend_i32_u
        (local.get $len)
       )
       (i64.extend_i32_u
        (i32.load
         (i32.add
          (global.get $pk_wire)
          (i32.shl
           (local.get $first)
           (i32.const 2)
          )
         )
        )
       )
       (i64.const 0)
       (i64.const 0)
       (i64.const 0)
       (i64.const 0)
       (i64.const 0)
       (i64.const 0)
      )
     )
    )
    (local.set $first
     (i32.add
      (local.get $first)
      (i32.const 1)
     )
    )
    (br $next)
   )
  )
  (return
   (local.get $count)
  )
 )
)
