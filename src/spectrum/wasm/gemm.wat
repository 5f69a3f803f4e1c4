;; Dense float64 matrix product, WebAssembly SIMD (128-bit): C += A·B over one k-panel (src/spectrum/gemm.ts).
;; Assembled by `npm run gen:wasm` into gemmWasm.ts.
;;
;; Memory is laid out by the host (src/spectrum/wasmGemm.ts); pointers are byte offsets into it.
;; - A panel, packed by groups of 4 rows, interleaved by step: apack[(i/4)·kc·4 + p·4 + i%4] = s·A[i][p].
;; - B panel, packed by groups of 4 columns: bpack[(j/4)·kc·4 + p·4 + j%4] = B[p][j].
;; - C: m4 × n4 float64, row stride n4 (m4, n4 = m, n rounded up to 4; the padding is never read back).
;; Register blocking as in src/kernel/wasm/gram.wat: a 4×4 tile of C in 8 f64x2 accumulators; per step 2
;; vector loads of B, 4 splat loads of A, 8 multiplies, 8 adds (V8 spills anything larger or unrolled).
(module
  (memory (export "memory") 1)

  ;; A stage (m4 rows × kc, row stride kc; rows ≥ m zeroed by the host) → apack, each value times $s
  ;; (s = −1 folds the sign of C −= A·B into the packed copy; ±1 products are exact).
  (func (export "pack_a") (param $src i32) (param $dst i32) (param $m4 i32) (param $kc i32) (param $s f64)
    (local $r i32) (local $d i32) (local $k i32)
    (loop $rows
      (local.set $d (i32.add (local.get $dst)
        (i32.shl (i32.add (i32.mul (i32.and (local.get $r) (i32.const -4)) (local.get $kc))
                          (i32.and (local.get $r) (i32.const 3))) (i32.const 3))))
      (local.set $k (local.get $kc))
      (loop $cols
        (f64.store (local.get $d) (f64.mul (f64.load (local.get $src)) (local.get $s)))
        (local.set $src (i32.add (local.get $src) (i32.const 8)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br_if $cols (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
      (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $m4)))))

  ;; B stage (kc rows × n4, row stride n4; columns ≥ n zeroed by the host) → bpack: 4 columns = 2 vectors.
  (func (export "pack_b") (param $src i32) (param $dst i32) (param $n4 i32) (param $kc i32)
    (local $p i32) (local $g i32) (local $d i32) (local $gstride i32)
    (local.set $gstride (i32.shl (local.get $kc) (i32.const 5)))  ;; bytes per 4-column group
    (loop $steps
      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 5))))
      (local.set $g (i32.shr_u (local.get $n4) (i32.const 2)))
      (loop $groups
        (v128.store (local.get $d) (v128.load (local.get $src)))
        (v128.store offset=16 (local.get $d) (v128.load offset=16 (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 32)))
        (local.set $d (i32.add (local.get $d) (local.get $gstride)))
        (br_if $groups (local.tee $g (i32.sub (local.get $g) (i32.const 1)))))
      (br_if $steps (i32.lt_u (local.tee $p (i32.add (local.get $p) (i32.const 1))) (local.get $kc)))))

  ;; One 4×4 tile of C (row stride $ld bytes) += 4 packed rows of A · 4 packed columns of B over kc ≥ 1 steps.
  (func $tile (param $a i32) (param $b i32) (param $kc i32) (param $out i32) (param $ld i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (loop $steps
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $x (v128.load64_splat (local.get $a)))
      (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
      (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load64_splat offset=8 (local.get $a)))
      (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
      (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load64_splat offset=16 (local.get $a)))
      (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
      (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load64_splat offset=24 (local.get $a)))
      (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
      (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (local.set $b (i32.add (local.get $b) (i32.const 32)))
      (br_if $steps (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
    (v128.store (local.get $out) (f64x2.add (v128.load (local.get $out)) (local.get $c00)))
    (v128.store offset=16 (local.get $out) (f64x2.add (v128.load offset=16 (local.get $out)) (local.get $c01)))
    (local.set $out (i32.add (local.get $out) (local.get $ld)))
    (v128.store (local.get $out) (f64x2.add (v128.load (local.get $out)) (local.get $c10)))
    (v128.store offset=16 (local.get $out) (f64x2.add (v128.load offset=16 (local.get $out)) (local.get $c11)))
    (local.set $out (i32.add (local.get $out) (local.get $ld)))
    (v128.store (local.get $out) (f64x2.add (v128.load (local.get $out)) (local.get $c20)))
    (v128.store offset=16 (local.get $out) (f64x2.add (v128.load offset=16 (local.get $out)) (local.get $c21)))
    (local.set $out (i32.add (local.get $out) (local.get $ld)))
    (v128.store (local.get $out) (f64x2.add (v128.load (local.get $out)) (local.get $c30)))
    (v128.store offset=16 (local.get $out) (f64x2.add (v128.load offset=16 (local.get $out)) (local.get $c31))))

  ;; C (m4 × n4) += apack · bpack over one panel of kc ≥ 1 steps. Columns in blocks of $jb (a multiple of 4):
  ;; the block's packed B (jb·kc values) stays in L2 while every 4-row group of A sweeps it.
  (func (export "gemm_f64")
    (param $apack i32) (param $bpack i32) (param $c i32) (param $m4 i32) (param $n4 i32) (param $kc i32) (param $jb i32)
    (local $ld i32) (local $step i32) (local $jblk i32) (local $jend i32) (local $i0 i32) (local $j0 i32) (local $a i32) (local $out i32)
    (local.set $ld (i32.shl (local.get $n4) (i32.const 3)))
    (local.set $step (i32.shl (local.get $kc) (i32.const 5)))  ;; bytes of one packed 4-row (4-column) group
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $jblk) (local.get $n4)))
      (local.set $jend (i32.add (local.get $jblk) (local.get $jb)))
      (if (i32.gt_u (local.get $jend) (local.get $n4)) (then (local.set $jend (local.get $n4))))
      (local.set $i0 (i32.const 0))
      (local.set $a (local.get $apack))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i0) (local.get $m4)))
        (local.set $out (i32.add (local.get $c)
          (i32.add (i32.mul (local.get $i0) (local.get $ld)) (i32.shl (local.get $jblk) (i32.const 3)))))
        (local.set $j0 (local.get $jblk))
        (block $cols_done (loop $cols
          (br_if $cols_done (i32.ge_u (local.get $j0) (local.get $jend)))
          (call $tile (local.get $a)
            (i32.add (local.get $bpack) (i32.mul (i32.shr_u (local.get $j0) (i32.const 2)) (local.get $step)))
            (local.get $kc) (local.get $out) (local.get $ld))
          (local.set $out (i32.add (local.get $out) (i32.const 32)))
          (local.set $j0 (i32.add (local.get $j0) (i32.const 4)))
          (br $cols)))
        (local.set $a (i32.add (local.get $a) (local.get $step)))
        (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
        (br $rows)))
      (local.set $jblk (i32.add (local.get $jblk) (local.get $jb)))
      (br $blocks))))
)
