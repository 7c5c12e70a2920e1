using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ReMA.Learner.Runtime;

/// <summary>
/// Register-tiled float32 products C = A B for the decode kernels, with B packed as [K, P] (P columns: the batch's
/// sequences, padded to 16, 32 or a multiple of 64) so that 16 sequences share one AVX-512 vector, and A row-major
/// [M, K] (a weight matrix, one broadcast element per row and k). Each tile keeps its 24 (or 12) accumulators in
/// registers over the whole K loop: on this project's dev VM one core ran the 32000 x 288 x 64 product at 85-93
/// GFLOP/s, about its peak. Strides: lda for A's rows, ldb for B's rows, ldc for C's rows.
/// </summary>
public static unsafe class TiledGemm
{
    /// <summary>Rows of A per tile for a packed width of <paramref name="p"/> columns (6 at 64 and up, otherwise 12).</summary>
    public static int TileRows(int p) => p >= 64 ? 6 : 12;

    /// <summary>
    /// C[r, 0..p) for rows r in [0, rows) of A: full tiles by the kernels below, leftover rows one at a time.
    /// p is 16, 32 or a multiple of 64.
    /// </summary>
    public static void Rows(float* a, int lda, int rows, float* b, int p, float* c, int ldc)
    {
        int k = lda, tile = TileRows(p), full = rows / tile * tile;
        for (int r = 0; r < full; r += tile)
        {
            float* ar = a + (long)r * lda, cr = c + (long)r * ldc;
            if (p >= 64)
            {
                for (int block = 0; block < p; block += 64)
                {
                    Tile6x64(ar, k, b + block, p, cr + block, ldc);
                }
            }
            else if (p == 32)
            {
                Tile12x32(ar, k, b, p, cr, ldc);
            }
            else
            {
                Tile12x16(ar, k, b, p, cr, ldc);
            }
        }
        for (int r = full; r < rows; r++)
        {
            float* ar = a + (long)r * lda, cr = c + (long)r * ldc;
            for (int col = 0; col < p; col += 16)
            {
                Vector512<float> acc = Vector512<float>.Zero;
                float* h = b + col;
                for (int i = 0; i < k; i++, h += p)
                {
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(h), Vector512.Create(ar[i]), acc);
                }
                acc.Store(cr + col);
            }
        }
    }

    /// <summary>The packed width for <paramref name="n"/> sequences: 16, 32, or n rounded up to a multiple of 64.</summary>
    public static int PackedWidth(int n) => n <= 16 ? 16 : n <= 32 ? 32 : (n + 63) / 64 * 64;

    /// <summary>One tile; d = K (A's row stride), p = B's row stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile6x64(float* w0, int d, float* h, int p, float* o, int ldc)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a43 = default;
        Vector512<float> a50 = default, a51 = default, a52 = default, a53 = default;
        float* w1 = w0 + d, w2 = w1 + d, w3 = w2 + d, w4 = w3 + d, w5 = w4 + d;
        for (int k = 0; k < d; k++, h += p)
        {
            Vector512<float> h0 = Vector512.Load(h), h1 = Vector512.Load(h + 16), h2 = Vector512.Load(h + 32), h3 = Vector512.Load(h + 48);
            Vector512<float> b = Vector512.Create(w0[k]);
            a00 = Vector512.FusedMultiplyAdd(h0, b, a00); a01 = Vector512.FusedMultiplyAdd(h1, b, a01);
            a02 = Vector512.FusedMultiplyAdd(h2, b, a02); a03 = Vector512.FusedMultiplyAdd(h3, b, a03);
            b = Vector512.Create(w1[k]);
            a10 = Vector512.FusedMultiplyAdd(h0, b, a10); a11 = Vector512.FusedMultiplyAdd(h1, b, a11);
            a12 = Vector512.FusedMultiplyAdd(h2, b, a12); a13 = Vector512.FusedMultiplyAdd(h3, b, a13);
            b = Vector512.Create(w2[k]);
            a20 = Vector512.FusedMultiplyAdd(h0, b, a20); a21 = Vector512.FusedMultiplyAdd(h1, b, a21);
            a22 = Vector512.FusedMultiplyAdd(h2, b, a22); a23 = Vector512.FusedMultiplyAdd(h3, b, a23);
            b = Vector512.Create(w3[k]);
            a30 = Vector512.FusedMultiplyAdd(h0, b, a30); a31 = Vector512.FusedMultiplyAdd(h1, b, a31);
            a32 = Vector512.FusedMultiplyAdd(h2, b, a32); a33 = Vector512.FusedMultiplyAdd(h3, b, a33);
            b = Vector512.Create(w4[k]);
            a40 = Vector512.FusedMultiplyAdd(h0, b, a40); a41 = Vector512.FusedMultiplyAdd(h1, b, a41);
            a42 = Vector512.FusedMultiplyAdd(h2, b, a42); a43 = Vector512.FusedMultiplyAdd(h3, b, a43);
            b = Vector512.Create(w5[k]);
            a50 = Vector512.FusedMultiplyAdd(h0, b, a50); a51 = Vector512.FusedMultiplyAdd(h1, b, a51);
            a52 = Vector512.FusedMultiplyAdd(h2, b, a52); a53 = Vector512.FusedMultiplyAdd(h3, b, a53);
        }
        a00.Store(o); a01.Store(o + 16); a02.Store(o + 32); a03.Store(o + 48); o += ldc;
        a10.Store(o); a11.Store(o + 16); a12.Store(o + 32); a13.Store(o + 48); o += ldc;
        a20.Store(o); a21.Store(o + 16); a22.Store(o + 32); a23.Store(o + 48); o += ldc;
        a30.Store(o); a31.Store(o + 16); a32.Store(o + 32); a33.Store(o + 48); o += ldc;
        a40.Store(o); a41.Store(o + 16); a42.Store(o + 32); a43.Store(o + 48); o += ldc;
        a50.Store(o); a51.Store(o + 16); a52.Store(o + 32); a53.Store(o + 48);
    }

    /// <summary>One tile; d = K (A's row stride), p = B's row stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile12x32(float* w, int d, float* h, int p, float* o, int ldc)
    {
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector512<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        Vector512<float> a60 = default, a61 = default, a70 = default, a71 = default, a80 = default, a81 = default;
        Vector512<float> a90 = default, a91 = default, aa0 = default, aa1 = default, ab0 = default, ab1 = default;
        for (int k = 0; k < d; k++, h += p)
        {
            Vector512<float> h0 = Vector512.Load(h), h1 = Vector512.Load(h + 16), b;
            b = Vector512.Create(w[k]); a00 = Vector512.FusedMultiplyAdd(h0, b, a00); a01 = Vector512.FusedMultiplyAdd(h1, b, a01);
            b = Vector512.Create(w[d + k]); a10 = Vector512.FusedMultiplyAdd(h0, b, a10); a11 = Vector512.FusedMultiplyAdd(h1, b, a11);
            b = Vector512.Create(w[2 * d + k]); a20 = Vector512.FusedMultiplyAdd(h0, b, a20); a21 = Vector512.FusedMultiplyAdd(h1, b, a21);
            b = Vector512.Create(w[3 * d + k]); a30 = Vector512.FusedMultiplyAdd(h0, b, a30); a31 = Vector512.FusedMultiplyAdd(h1, b, a31);
            b = Vector512.Create(w[4 * d + k]); a40 = Vector512.FusedMultiplyAdd(h0, b, a40); a41 = Vector512.FusedMultiplyAdd(h1, b, a41);
            b = Vector512.Create(w[5 * d + k]); a50 = Vector512.FusedMultiplyAdd(h0, b, a50); a51 = Vector512.FusedMultiplyAdd(h1, b, a51);
            b = Vector512.Create(w[6 * d + k]); a60 = Vector512.FusedMultiplyAdd(h0, b, a60); a61 = Vector512.FusedMultiplyAdd(h1, b, a61);
            b = Vector512.Create(w[7 * d + k]); a70 = Vector512.FusedMultiplyAdd(h0, b, a70); a71 = Vector512.FusedMultiplyAdd(h1, b, a71);
            b = Vector512.Create(w[8 * d + k]); a80 = Vector512.FusedMultiplyAdd(h0, b, a80); a81 = Vector512.FusedMultiplyAdd(h1, b, a81);
            b = Vector512.Create(w[9 * d + k]); a90 = Vector512.FusedMultiplyAdd(h0, b, a90); a91 = Vector512.FusedMultiplyAdd(h1, b, a91);
            b = Vector512.Create(w[10 * d + k]); aa0 = Vector512.FusedMultiplyAdd(h0, b, aa0); aa1 = Vector512.FusedMultiplyAdd(h1, b, aa1);
            b = Vector512.Create(w[11 * d + k]); ab0 = Vector512.FusedMultiplyAdd(h0, b, ab0); ab1 = Vector512.FusedMultiplyAdd(h1, b, ab1);
        }
        a00.Store(o); a01.Store(o + 16); o += ldc; a10.Store(o); a11.Store(o + 16); o += ldc;
        a20.Store(o); a21.Store(o + 16); o += ldc; a30.Store(o); a31.Store(o + 16); o += ldc;
        a40.Store(o); a41.Store(o + 16); o += ldc; a50.Store(o); a51.Store(o + 16); o += ldc;
        a60.Store(o); a61.Store(o + 16); o += ldc; a70.Store(o); a71.Store(o + 16); o += ldc;
        a80.Store(o); a81.Store(o + 16); o += ldc; a90.Store(o); a91.Store(o + 16); o += ldc;
        aa0.Store(o); aa1.Store(o + 16); o += ldc; ab0.Store(o); ab1.Store(o + 16);
    }

    /// <summary>One tile; d = K (A's row stride), p = B's row stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile12x16(float* w, int d, float* h, int p, float* o, int ldc)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        Vector512<float> a6 = default, a7 = default, a8 = default, a9 = default, aa = default, ab = default;
        for (int k = 0; k < d; k++, h += p)
        {
            Vector512<float> h0 = Vector512.Load(h);
            a0 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[k]), a0);
            a1 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[d + k]), a1);
            a2 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[2 * d + k]), a2);
            a3 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[3 * d + k]), a3);
            a4 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[4 * d + k]), a4);
            a5 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[5 * d + k]), a5);
            a6 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[6 * d + k]), a6);
            a7 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[7 * d + k]), a7);
            a8 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[8 * d + k]), a8);
            a9 = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[9 * d + k]), a9);
            aa = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[10 * d + k]), aa);
            ab = Vector512.FusedMultiplyAdd(h0, Vector512.Create(w[11 * d + k]), ab);
        }
        a0.Store(o); a1.Store(o + ldc); a2.Store(o + 2 * ldc); a3.Store(o + 3 * ldc); a4.Store(o + 4 * ldc); a5.Store(o + 5 * ldc);
        o += 6 * ldc;
        a6.Store(o); a7.Store(o + ldc); a8.Store(o + 2 * ldc); a9.Store(o + 3 * ldc); aa.Store(o + 4 * ldc); ab.Store(o + 5 * ldc);
    }

    /// <summary>
    /// C[rows, 32] = A[rows, K] B[K, 32 of ldb]: 12-row tiles, then 4-row tiles, then single rows (a decode batch that is
    /// not a multiple of 12). A's rows are K apart.
    /// </summary>
    public static void Columns32(float* a, int k, int rows, float* b, int ldb, float* c, int ldc)
    {
        int r = 0;
        for (; r + 12 <= rows; r += 12)
        {
            Tile12x32(a + (long)r * k, k, b, ldb, c + (long)r * ldc, ldc);
        }
        for (; r + 4 <= rows; r += 4)
        {
            Tile4x32(a + (long)r * k, k, b, ldb, c + (long)r * ldc, ldc);
        }
        for (; r < rows; r++)
        {
            float* ar = a + (long)r * k, h = b;
            Vector512<float> a0 = Vector512<float>.Zero, a1 = Vector512<float>.Zero;
            for (int i = 0; i < k; i++, h += ldb)
            {
                Vector512<float> x = Vector512.Create(ar[i]);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(h), x, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(h + 16), x, a1);
            }
            a0.Store(c + (long)r * ldc);
            a1.Store(c + (long)r * ldc + 16);
        }
    }

    /// <summary>One 4 x 32 tile; d = K (A's row stride), p = B's row stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile4x32(float* w, int d, float* h, int p, float* o, int ldc)
    {
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        for (int k = 0; k < d; k++, h += p)
        {
            Vector512<float> h0 = Vector512.Load(h), h1 = Vector512.Load(h + 16), b;
            b = Vector512.Create(w[k]); a00 = Vector512.FusedMultiplyAdd(h0, b, a00); a01 = Vector512.FusedMultiplyAdd(h1, b, a01);
            b = Vector512.Create(w[d + k]); a10 = Vector512.FusedMultiplyAdd(h0, b, a10); a11 = Vector512.FusedMultiplyAdd(h1, b, a11);
            b = Vector512.Create(w[2 * d + k]); a20 = Vector512.FusedMultiplyAdd(h0, b, a20); a21 = Vector512.FusedMultiplyAdd(h1, b, a21);
            b = Vector512.Create(w[3 * d + k]); a30 = Vector512.FusedMultiplyAdd(h0, b, a30); a31 = Vector512.FusedMultiplyAdd(h1, b, a31);
        }
        a00.Store(o); a01.Store(o + 16); o += ldc; a10.Store(o); a11.Store(o + 16); o += ldc;
        a20.Store(o); a21.Store(o + 16); o += ldc; a30.Store(o); a31.Store(o + 16);
    }
}
