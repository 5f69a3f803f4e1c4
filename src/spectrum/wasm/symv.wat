;; Symmetric matrix-vector product, WebAssembly SIMD (128-bit), for the panels of the blocked Householder
;; tridiagonalisation (src/spectrum/eigh.ts via src/spectrum/wasmSymv.ts). Assembled by `npm run gen:wasm`
;; into symvWasm.ts.
;;
;; The matrix is row-major with a row stride of $lda bytes; only its lower triangle (row j, entries 0..j) is read,
;; so the eigensolver's working matrix is used in place. Pointers are byte offsets into this module's memory.
;; One pass over the triangle computes both halves of the product: row j contributes its dot with u to p[j]
;; and u[j]·row j to p[0..j−1]. Two rows per pass share the loads of u[k] and p[k] (memory-bound kernel).
(module
  (memory (export "memory") 1)

  ;; p[0..n) = A u, A the n×n leading block of the symmetric matrix at $a (lower triangle, row stride $lda bytes).
  (func (export "symv_lower") (param $a i32) (param $lda i32) (param $n i32) (param $u i32) (param $p i32)
    (local $j i32) (local $row0 i32) (local $row1 i32) (local $kb i32) (local $jb i32) (local $pairs i32)
    (local $s0 v128) (local $s1 v128) (local $uj0 v128) (local $uj1 v128) (local $x0 v128) (local $x1 v128) (local $uk v128)
    (local $t0 f64) (local $t1 f64) (local $a0 f64) (local $a1 f64) (local $u0 f64) (local $u1 f64) (local $uk1 f64)
    ;; p = 0
    (local.set $kb (i32.const 0))
    (block $z_done (loop $zero
      (br_if $z_done (i32.ge_u (local.get $kb) (i32.shl (local.get $n) (i32.const 3))))
      (f64.store (i32.add (local.get $p) (local.get $kb)) (f64.const 0))
      (local.set $kb (i32.add (local.get $kb) (i32.const 8)))
      (br $zero)))
    (local.set $row0 (local.get $a))
    (block $rows_done (loop $rows
      (br_if $rows_done (i32.ge_u (i32.add (local.get $j) (i32.const 1)) (local.get $n)))
      ;; rows j and j+1
      (local.set $jb (i32.shl (local.get $j) (i32.const 3)))
      (local.set $row1 (i32.add (local.get $row0) (local.get $lda)))
      (local.set $u0 (f64.load (i32.add (local.get $u) (local.get $jb))))
      (local.set $u1 (f64.load offset=8 (i32.add (local.get $u) (local.get $jb))))
      (local.set $uj0 (f64x2.splat (local.get $u0)))
      (local.set $uj1 (f64x2.splat (local.get $u1)))
      (local.set $s0 (v128.const i64x2 0 0))
      (local.set $s1 (v128.const i64x2 0 0))
      (local.set $kb (i32.const 0))
      ;; k = 0 .. j−1 in pairs (j is even here: rows go in pairs from 0)
      (local.set $pairs (i32.shr_u (local.get $j) (i32.const 1)))
      (if (local.get $pairs) (then
        (loop $cols
          (local.set $uk (v128.load (i32.add (local.get $u) (local.get $kb))))
          (local.set $x0 (v128.load (i32.add (local.get $row0) (local.get $kb))))
          (local.set $x1 (v128.load (i32.add (local.get $row1) (local.get $kb))))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.mul (local.get $x0) (local.get $uk))))
          (local.set $s1 (f64x2.add (local.get $s1) (f64x2.mul (local.get $x1) (local.get $uk))))
          (v128.store (i32.add (local.get $p) (local.get $kb))
            (f64x2.add (v128.load (i32.add (local.get $p) (local.get $kb)))
              (f64x2.add (f64x2.mul (local.get $x0) (local.get $uj0)) (f64x2.mul (local.get $x1) (local.get $uj1)))))
          (local.set $kb (i32.add (local.get $kb) (i32.const 16)))
          (br_if $cols (local.tee $pairs (i32.sub (local.get $pairs) (i32.const 1)))))))
      (local.set $t0 (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
      (local.set $t1 (f64.add (f64x2.extract_lane 0 (local.get $s1)) (f64x2.extract_lane 1 (local.get $s1))))
      ;; the 2×2 diagonal block: A[j][j], A[j+1][j], A[j+1][j+1]
      (local.set $a0 (f64.load (i32.add (local.get $row0) (local.get $jb))))
      (local.set $a1 (f64.load (i32.add (local.get $row1) (local.get $jb))))
      (f64.store (i32.add (local.get $p) (local.get $jb))
        (f64.add (f64.load (i32.add (local.get $p) (local.get $jb)))
          (f64.add (local.get $t0) (f64.add (f64.mul (local.get $a0) (local.get $u0)) (f64.mul (local.get $a1) (local.get $u1))))))
      (f64.store offset=8 (i32.add (local.get $p) (local.get $jb))
        (f64.add (f64.load offset=8 (i32.add (local.get $p) (local.get $jb)))
          (f64.add (local.get $t1)
            (f64.add (f64.mul (local.get $a1) (local.get $u0))
              (f64.mul (f64.load offset=8 (i32.add (local.get $row1) (local.get $jb))) (local.get $u1))))))
      ;; next pair
      (local.set $row0 (i32.add (local.get $row1) (local.get $lda)))
      (local.set $j (i32.add (local.get $j) (i32.const 2)))
      (br $rows)))
    ;; odd n: the last row j = n−1 alone (scalar; O(n) once per product)
    (if (i32.lt_u (local.get $j) (local.get $n)) (then
      (local.set $jb (i32.shl (local.get $j) (i32.const 3)))
      (local.set $u0 (f64.load (i32.add (local.get $u) (local.get $jb))))
      (local.set $t0 (f64.const 0))
      (local.set $kb (i32.const 0))
      (block $tail_done (loop $tail
        (br_if $tail_done (i32.ge_u (local.get $kb) (local.get $jb)))
        (local.set $a0 (f64.load (i32.add (local.get $row0) (local.get $kb))))
        (local.set $uk1 (f64.load (i32.add (local.get $u) (local.get $kb))))
        (local.set $t0 (f64.add (local.get $t0) (f64.mul (local.get $a0) (local.get $uk1))))
        (f64.store (i32.add (local.get $p) (local.get $kb))
          (f64.add (f64.load (i32.add (local.get $p) (local.get $kb))) (f64.mul (local.get $a0) (local.get $u0))))
        (local.set $kb (i32.add (local.get $kb) (i32.const 8)))
        (br $tail)))
      (f64.store (i32.add (local.get $p) (local.get $jb))
        (f64.add (f64.load (i32.add (local.get $p) (local.get $jb)))
          (f64.add (local.get $t0) (f64.mul (f64.load (i32.add (local.get $row0) (local.get $jb))) (local.get $u0))))))))
)
