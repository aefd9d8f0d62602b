;; Adam's update over float32 arrays in the tfjs wasm backend's heap, 4 lanes at a time, and the
;; update's sums of squares in float64: the kernel of src/trainer/fusedAdam.ts on wasm; and Σ x² in
;; float64 for src/trainer/squareSums.ts. Assembled by
;; scripts/wasm/assemble.mjs into src/trainer/simdKernelsWasm.ts (MEMORY is replaced there by the
;; backend's memory type: shared for the threaded build).
;;
;; Each f32x4 operation is IEEE float32 arithmetic, as the backend's own Mul, Add, RealDiv and Sqrt
;; kernels do it, in the order of the tensor ops (gradientStep.ts's scaling, optimizers.ts), so the
;; results are the same bits.
(module
  (import "env" "memory" MEMORY)
  ;; Writes m', v' and w' (byte offsets mOut, vOut, wOut) from g·scale, m, v, w (n elements each; a
  ;; scale of 1 leaves g as it is); returns Σ (w' − w)² and Σ w'² accumulated in float64.
  (func (export "adam")
    (param $g i32) (param $m i32) (param $v i32) (param $w i32)
    (param $mOut i32) (param $vOut i32) (param $wOut i32) (param $n i32) (param $scale f32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32)
    (param $h1 f32) (param $h2 f32) (param $eps f32) (param $nlr f32) (param $decay f32)
    (result f64 f64)
    (local $i i32) (local $end i32) (local $all i32)
    (local $SCALE v128) (local $B1 v128) (local $C1 v128) (local $B2 v128) (local $C2 v128)
    (local $H1 v128) (local $H2 v128) (local $EPS v128) (local $NLR v128) (local $DECAY v128)
    (local $gk v128) (local $mk v128) (local $vk v128) (local $wk v128) (local $nk v128)
    (local $lo v128) (local $hi v128)
    (local $d0 v128) (local $d1 v128) (local $s0 v128) (local $s1 v128)
    (local $sg f32) (local $sm f32) (local $sv f32) (local $sw f32) (local $sn f32)
    (local $dd f64) (local $ss f64) (local $e f64)
    (local.set $SCALE (f32x4.splat (local.get $scale)))
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $H1 (f32x4.splat (local.get $h1)))
    (local.set $H2 (f32x4.splat (local.get $h2)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $NLR (f32x4.splat (local.get $nlr)))
    (local.set $DECAY (f32x4.splat (local.get $decay)))
    (local.set $all (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.and (local.get $all) (i32.const -16)))
    (block $done
      (loop $body
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gk (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $i))) (local.get $SCALE)))
        ;; m' = m·β₁ + g·(1 − β₁)
        (local.set $mk (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $m) (local.get $i))) (local.get $B1))
          (f32x4.mul (local.get $gk) (local.get $C1))))
        ;; v' = v·β₂ + g²·(1 − β₂)
        (local.set $vk (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $v) (local.get $i))) (local.get $B2))
          (f32x4.mul (f32x4.mul (local.get $gk) (local.get $gk)) (local.get $C2))))
        (v128.store (i32.add (local.get $mOut) (local.get $i)) (local.get $mk))
        (v128.store (i32.add (local.get $vOut) (local.get $i)) (local.get $vk))
        ;; w' = ((m'/h₁) / (√(v'/h₂) + ε))·(−lr) + w·decay
        (local.set $wk (v128.load (i32.add (local.get $w) (local.get $i))))
        (local.set $nk (f32x4.add
          (f32x4.mul
            (f32x4.div
              (f32x4.div (local.get $mk) (local.get $H1))
              (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vk) (local.get $H2))) (local.get $EPS)))
            (local.get $NLR))
          (f32x4.mul (local.get $wk) (local.get $DECAY))))
        (v128.store (i32.add (local.get $wOut) (local.get $i)) (local.get $nk))
        ;; Σ (w' − w)² and Σ w'², each lane pair in float64
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $nk)))
        (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $nk) (local.get $nk))))
        (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $hi) (local.get $hi))))
        (local.set $lo (f64x2.sub (local.get $lo) (f64x2.promote_low_f32x4 (local.get $wk))))
        (local.set $hi (f64x2.sub (local.get $hi) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $wk) (local.get $wk)))))
        (local.set $d0 (f64x2.add (local.get $d0) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $d1 (f64x2.add (local.get $d1) (f64x2.mul (local.get $hi) (local.get $hi))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $body)))
    (local.set $d0 (f64x2.add (local.get $d0) (local.get $d1)))
    (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
    (local.set $dd (f64.add (f64x2.extract_lane 0 (local.get $d0)) (f64x2.extract_lane 1 (local.get $d0))))
    (local.set $ss (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
    ;; The last n mod 4 elements, one at a time with the same float32 operations.
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $all)))
        (local.set $sg (f32.mul (f32.load (i32.add (local.get $g) (local.get $i))) (local.get $scale)))
        (local.set $sm (f32.add
          (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (local.get $b1))
          (f32.mul (local.get $sg) (local.get $c1))))
        (local.set $sv (f32.add
          (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $b2))
          (f32.mul (f32.mul (local.get $sg) (local.get $sg)) (local.get $c2))))
        (f32.store (i32.add (local.get $mOut) (local.get $i)) (local.get $sm))
        (f32.store (i32.add (local.get $vOut) (local.get $i)) (local.get $sv))
        (local.set $sw (f32.load (i32.add (local.get $w) (local.get $i))))
        (local.set $sn (f32.add
          (f32.mul
            (f32.div
              (f32.div (local.get $sm) (local.get $h1))
              (f32.add (f32.sqrt (f32.div (local.get $sv) (local.get $h2))) (local.get $eps)))
            (local.get $nlr))
          (f32.mul (local.get $sw) (local.get $decay))))
        (f32.store (i32.add (local.get $wOut) (local.get $i)) (local.get $sn))
        (local.set $ss (f64.add (local.get $ss) (f64.mul (f64.promote_f32 (local.get $sn)) (f64.promote_f32 (local.get $sn)))))
        (local.set $e (f64.sub (f64.promote_f32 (local.get $sn)) (f64.promote_f32 (local.get $sw))))
        (local.set $dd (f64.add (local.get $dd) (f64.mul (local.get $e) (local.get $e))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail)))
    (local.get $dd)
    (local.get $ss))
  ;; Σ x² over n float32 elements from byte offset x, accumulated in float64.
  (func (export "squares") (param $x i32) (param $n i32) (result f64)
    (local $i i32) (local $end i32) (local $all i32) (local $xk v128) (local $lo v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $s f64) (local $e f64)
    (local.set $all (i32.shl (local.get $n) (i32.const 2)))
    (local.set $end (i32.and (local.get $all) (i32.const -32)))
    (block $done
      (loop $body
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $xk (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $xk)))
        (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $xk) (local.get $xk))))
        (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $xk (v128.load offset=16 (i32.add (local.get $x) (local.get $i))))
        (local.set $lo (f64x2.promote_low_f32x4 (local.get $xk)))
        (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $lo (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $xk) (local.get $xk))))
        (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $lo) (local.get $lo))))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $body)))
    (local.set $a0 (f64x2.add (f64x2.add (local.get $a0) (local.get $a1)) (f64x2.add (local.get $a2) (local.get $a3))))
    (local.set $s (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0))))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $all)))
        (local.set $e (f64.promote_f32 (f32.load (i32.add (local.get $x) (local.get $i)))))
        (local.set $s (f64.add (local.get $s) (f64.mul (local.get $e) (local.get $e))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail)))
    (local.get $s)))
