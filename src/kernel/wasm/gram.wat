;; Gram accumulation kernels, WebAssembly SIMD (128-bit): acc += B Bᵀ over one column panel of B, upper
;; triangle tiles only (docs/design.md §6, docs/science.md A0). Assembled by `npm run gen:wasm` into gramWasm.ts.
;;
;; Memory is laid out by the host (src/kernel/wasmGram.ts); every pointer below is a byte offset into it.
;; - stage: one column panel of B, rows × kc row-major (stride kc), f32 or f64 as the block arrived; padding
;;   rows up to np are zero.
;; - pack: the panel regrouped by rows so that each step of the product reads contiguous memory. Row r sits in
;;   group r/G at lane r%G, groups are kc steps of G values: pack[(r/G)·kc·G + k·G + r%G] = B[r][k]. The
;;   f64 kernel uses G = 4 (4·8 = 32 bytes per step), the f32 kernel G = 8 (8·4 = 32 bytes per step).
;; - acc: float64, a band of rows [ib, ie) of the np×np accumulator, row stride np: acc[(i−ib)·np + j].
;;
;; Register blocking: a 4×4 (f64) or 4×8 (f32) tile of acc lives in 8 v128 accumulators while the tile's
;; rows stream through: per step, 2 vector loads of the B-side rows, 4 splat loads of the A-side rows, 8
;; multiplies and 8 adds. Larger tiles or unrolling measured slower: V8 (Node 20) hoists the loads of an
;; unrolled step and spills accumulators out of the 16 xmm registers.
;; A tile straddling the diagonal is computed whole; its entries below the diagonal land in acc and are
;; never read (the host reads i ≤ j only).
(module
  (memory (export "memory") 1)

  ;; ---- packing: rows r0 ≤ r < np of the stage (row-major, stride kc; $src points at row r0) → pack ----
  ;; Every variant advances 32 bytes per step. Rows below r0 (above the accumulator band) are not needed.

  ;; f64 stage → f64 pack, G = 4.
  (func (export "pack_f64_f64") (param $src i32) (param $dst i32) (param $r0 i32) (param $np i32) (param $kc i32)
    (local $r i32) (local $d i32) (local $k i32)
    (local.set $r (local.get $r0))
    (loop $rows
      (local.set $d (i32.add (local.get $dst)
        (i32.shl (i32.add (i32.mul (i32.and (local.get $r) (i32.const -4)) (local.get $kc))
                          (i32.and (local.get $r) (i32.const 3))) (i32.const 3))))
      (local.set $k (local.get $kc))
      (loop $cols
        (f64.store (local.get $d) (f64.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 8)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br_if $cols (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
      (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $np)))))

  ;; f32 stage → f64 pack, G = 4 (float32 blocks through the f64 kernel: the widening is exact).
  (func (export "pack_f32_f64") (param $src i32) (param $dst i32) (param $r0 i32) (param $np i32) (param $kc i32)
    (local $r i32) (local $d i32) (local $k i32)
    (local.set $r (local.get $r0))
    (loop $rows
      (local.set $d (i32.add (local.get $dst)
        (i32.shl (i32.add (i32.mul (i32.and (local.get $r) (i32.const -4)) (local.get $kc))
                          (i32.and (local.get $r) (i32.const 3))) (i32.const 3))))
      (local.set $k (local.get $kc))
      (loop $cols
        (f64.store (local.get $d) (f64.promote_f32 (f32.load (local.get $src))))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br_if $cols (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
      (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $np)))))

  ;; f32 stage → f32 pack, G = 8.
  (func (export "pack_f32_f32") (param $src i32) (param $dst i32) (param $r0 i32) (param $np i32) (param $kc i32)
    (local $r i32) (local $d i32) (local $k i32)
    (local.set $r (local.get $r0))
    (loop $rows
      (local.set $d (i32.add (local.get $dst)
        (i32.shl (i32.add (i32.mul (i32.and (local.get $r) (i32.const -8)) (local.get $kc))
                          (i32.and (local.get $r) (i32.const 7))) (i32.const 2))))
      (local.set $k (local.get $kc))
      (loop $cols
        (f32.store (local.get $d) (f32.load (local.get $src)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br_if $cols (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
      (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $np)))))

  ;; f64 stage → f32 pack, G = 8 (float64 blocks through the f32 kernel: rounded to nearest float32).
  (func (export "pack_f64_f32") (param $src i32) (param $dst i32) (param $r0 i32) (param $np i32) (param $kc i32)
    (local $r i32) (local $d i32) (local $k i32)
    (local.set $r (local.get $r0))
    (loop $rows
      (local.set $d (i32.add (local.get $dst)
        (i32.shl (i32.add (i32.mul (i32.and (local.get $r) (i32.const -8)) (local.get $kc))
                          (i32.and (local.get $r) (i32.const 7))) (i32.const 2))))
      (local.set $k (local.get $kc))
      (loop $cols
        (f32.store (local.get $d) (f32.demote_f64 (f64.load (local.get $src))))
        (local.set $src (i32.add (local.get $src) (i32.const 8)))
        (local.set $d (i32.add (local.get $d) (i32.const 32)))
        (br_if $cols (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))
      (br_if $rows (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (local.get $np)))))

  ;; ---- micro-kernels: one tile over kc ≥ 1 steps, then added into acc (row stride $ld bytes) ----

  ;; 4×4 float64 tile: rows a (G = 4 group, splat) × rows b (G = 4 group, two f64x2 vectors).
  (func $tile_f64 (param $a i32) (param $b i32) (param $kc i32) (param $out i32) (param $ld i32)
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

  ;; 4×8 float32 tile: 4 rows at a (lanes of a G = 8 group, splat) × rows b (G = 8 group, two f32x4
  ;; vectors). Products and the sum over this panel's kc steps are float32; the sums go to float64 acc.
  (func $tile_f32 (param $a i32) (param $b i32) (param $kc i32) (param $out i32) (param $ld i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (loop $steps
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $x (v128.load32_splat (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=4 (local.get $a)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=8 (local.get $a)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=12 (local.get $a)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (local.set $b (i32.add (local.get $b) (i32.const 32)))
      (br_if $steps (local.tee $kc (i32.sub (local.get $kc) (i32.const 1)))))
    ;; float32 sums widened exactly to float64: lanes 0–1 directly, lanes 2–3 after swapping the halves
    (v128.store offset=0 (local.get $out) (f64x2.add (v128.load offset=0 (local.get $out)) (f64x2.promote_low_f32x4 (local.get $c00))))
    (v128.store offset=16 (local.get $out) (f64x2.add (v128.load offset=16 (local.get $out))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c00) (local.get $c00)))))
    (v128.store offset=32 (local.get $out) (f64x2.add (v128.load offset=32 (local.get $out)) (f64x2.promote_low_f32x4 (local.get $c01))))
    (v128.store offset=48 (local.get $out) (f64x2.add (v128.load offset=48 (local.get $out))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c01) (local.get $c01)))))
    (local.set $out (i32.add (local.get $out) (local.get $ld)))
    (v128.store offset=0 (local.get $out) (f64x2.add (v128.load offset=0 (local.get $out)) (f64x2.promote_low_f32x4 (local.get $c10))))
    (v128.store offset=16 (local.get $out) (f64x2.add (v128.load offset=16 (local.get $out))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c10) (local.get $c10)))))
    (v128.store offset=32 (local.get $out) (f64x2.add (v128.load offset=32 (local.get $out)) (f64x2.promote_low_f32x4 (local.get $c11))))
    (v128.store offset=48 (local.get $out) (f64x2.add (v128.load offset=48 (local.get $out))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c11) (local.get $c11)))))
    (local.set $out (i32.add (local.get $out) (local.get $ld)))
    (v128.store offset=0 (local.get $out) (f64x2.add (v128.load offset=0 (local.get $out)) (f64x2.promote_low_f32x4 (local.get $c20))))
    (v128.store offset=16 (local.get $out) (f64x2.add (v128.load offset=16 (local.get $out))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c20) (local.get $c20)))))
    (v128.store offset=32 (local.get $out) (f64x2.add (v128.load offset=32 (local.get $out)) (f64x2.promote_low_f32x4 (local.get $c21))))
    (v128.store offset=48 (local.get $out) (f64x2.add (v128.load offset=48 (local.get $out))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c21) (local.get $c21)))))
    (local.set $out (i32.add (local.get $out) (local.get $ld)))
    (v128.store offset=0 (local.get $out) (f64x2.add (v128.load offset=0 (local.get $out)) (f64x2.promote_low_f32x4 (local.get $c30))))
    (v128.store offset=16 (local.get $out) (f64x2.add (v128.load offset=16 (local.get $out))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c30) (local.get $c30)))))
    (v128.store offset=32 (local.get $out) (f64x2.add (v128.load offset=32 (local.get $out)) (f64x2.promote_low_f32x4 (local.get $c31))))
    (v128.store offset=48 (local.get $out) (f64x2.add (v128.load offset=48 (local.get $out))
      (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $c31) (local.get $c31))))))

  ;; ---- drivers: every tile (i0, j0) with rows i0 ∈ [ib, ie) that reaches the upper triangle ----
  ;; Columns are walked in blocks of $jb (a multiple of 8): the B-side rows of one block (jb·kc values) stay
  ;; in L2 while every row group of A sweeps them. ib, ie and np are multiples of 8, 1 ≤ kc.

  (func (export "gram_f64")
    (param $pack i32) (param $acc i32) (param $np i32) (param $kc i32) (param $ib i32) (param $ie i32) (param $jb i32)
    (local $ld i32) (local $jblk i32) (local $jend i32) (local $i0 i32) (local $j0 i32) (local $a i32) (local $out i32)
    (local.set $ld (i32.shl (local.get $np) (i32.const 3)))
    (local.set $jblk (local.get $ib))
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $jblk) (local.get $np)))
      (local.set $jend (i32.add (local.get $jblk) (local.get $jb)))
      (if (i32.gt_u (local.get $jend) (local.get $np)) (then (local.set $jend (local.get $np))))
      (local.set $i0 (local.get $ib))
      ;; rows at or past the block's end have no tile in it (tiles need j0 ≥ i0 for 4-row groups)
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i0) (local.get $ie)))
        (br_if $rows_done (i32.ge_u (local.get $i0) (local.get $jend)))
        (local.set $j0 (select (local.get $i0) (local.get $jblk) (i32.gt_u (local.get $i0) (local.get $jblk))))
        (local.set $a (i32.add (local.get $pack) (i32.mul (local.get $i0) (i32.shl (local.get $kc) (i32.const 3)))))
        (local.set $out (i32.add (local.get $acc)
          (i32.add (i32.mul (i32.sub (local.get $i0) (local.get $ib)) (local.get $ld)) (i32.shl (local.get $j0) (i32.const 3)))))
        (block $cols_done (loop $cols
          (br_if $cols_done (i32.ge_u (local.get $j0) (local.get $jend)))
          (call $tile_f64 (local.get $a)
            (i32.add (local.get $pack) (i32.mul (local.get $j0) (i32.shl (local.get $kc) (i32.const 3))))
            (local.get $kc) (local.get $out) (local.get $ld))
          (local.set $out (i32.add (local.get $out) (i32.const 32)))
          (local.set $j0 (i32.add (local.get $j0) (i32.const 4)))
          (br $cols)))
        (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
        (br $rows)))
      (local.set $jblk (i32.add (local.get $jblk) (local.get $jb)))
      (br $blocks))))

  (func (export "gram_f32")
    (param $pack i32) (param $acc i32) (param $np i32) (param $kc i32) (param $ib i32) (param $ie i32) (param $jb i32)
    (local $ld i32) (local $jblk i32) (local $jend i32) (local $i0 i32) (local $j0 i32) (local $a i32) (local $out i32)
    (local.set $ld (i32.shl (local.get $np) (i32.const 3)))
    (local.set $jblk (local.get $ib))
    (block $done (loop $blocks
      (br_if $done (i32.ge_u (local.get $jblk) (local.get $np)))
      (local.set $jend (i32.add (local.get $jblk) (local.get $jb)))
      (if (i32.gt_u (local.get $jend) (local.get $np)) (then (local.set $jend (local.get $np))))
      (local.set $i0 (local.get $ib))
      (block $rows_done (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $i0) (local.get $ie)))
        (br_if $rows_done (i32.ge_u (local.get $i0) (local.get $jend)))
        ;; first 8-row group reaching the diagonal: i0 rounded down to 8
        (local.set $j0 (i32.and (local.get $i0) (i32.const -8)))
        (if (i32.lt_u (local.get $j0) (local.get $jblk)) (then (local.set $j0 (local.get $jblk))))
        ;; rows i0..i0+3 are lanes (i0 mod 8).. of group i0/8
        (local.set $a (i32.add (local.get $pack)
          (i32.shl (i32.add (i32.mul (i32.and (local.get $i0) (i32.const -8)) (local.get $kc))
                            (i32.and (local.get $i0) (i32.const 7))) (i32.const 2))))
        (local.set $out (i32.add (local.get $acc)
          (i32.add (i32.mul (i32.sub (local.get $i0) (local.get $ib)) (local.get $ld)) (i32.shl (local.get $j0) (i32.const 3)))))
        (block $cols_done (loop $cols
          (br_if $cols_done (i32.ge_u (local.get $j0) (local.get $jend)))
          (call $tile_f32 (local.get $a)
            (i32.add (local.get $pack) (i32.mul (local.get $j0) (i32.shl (local.get $kc) (i32.const 2))))
            (local.get $kc) (local.get $out) (local.get $ld))
          (local.set $out (i32.add (local.get $out) (i32.const 64)))
          (local.set $j0 (i32.add (local.get $j0) (i32.const 8)))
          (br $cols)))
        (local.set $i0 (i32.add (local.get $i0) (i32.const 4)))
        (br $rows)))
      (local.set $jblk (i32.add (local.get $jblk) (local.get $jb)))
      (br $blocks))))
)
