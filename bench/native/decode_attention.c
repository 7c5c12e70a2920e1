/*
 * Decode attention over a KV cache, for the `generate --profile` experiment only (docs/benchmarks.md): does a
 * kernel running on libtorch's own OpenMP threads read the cache faster than scaled_dot_product_attention?
 * It does not build with the project. Build and use:
 *   gcc -O3 -march=native -shared -fPIC bench/native/decode_attention.c -o /tmp/libremakern.so -ldl
 *   REMA_KERNEL_LIB=/tmp/libremakern.so dotnet run -c Release --project bench -- generate --profile
 * The parallel region is started through GOMP_parallel of the libgomp that libtorch ships (looked up by name in
 * the process), so the kernel shares libtorch's worker threads instead of competing with them.
 * Layout: q and out [batch, heads, 1, hd]; k and v [slots, heads, maxLen, hd]; sequence b attends to its first
 * lengths[b] positions.
 */
#include <dlfcn.h>
#include <math.h>
#define MAX_POSITIONS 4096

typedef void (*gomp_parallel_t)(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
typedef int (*omp_int_t)(void);
static gomp_parallel_t gp;
static omp_int_t tnum, tcount;

int rema_kernels_init(const char *gomp) {
    void *h = dlopen(gomp, RTLD_NOW | RTLD_NOLOAD);
    if (!h) return -1;
    gp = (gomp_parallel_t)dlsym(h, "GOMP_parallel");
    tnum = (omp_int_t)dlsym(h, "omp_get_thread_num");
    tcount = (omp_int_t)dlsym(h, "omp_get_num_threads");
    return gp && tnum && tcount ? 0 : -2;
}

typedef struct { const float *q, *k, *v; float *out; const long *lengths; int batch, heads, maxLen, hd; float scale; } args_t;

static void work(void *p) {
    const args_t *a = p;
    int n = a->batch * a->heads, t = tnum(), c = tcount();
    int lo = (int)((long)n * t / c), hi = (int)((long)n * (t + 1) / c);
    float scores[MAX_POSITIONS];
    for (int i = lo; i < hi; i++) {
        int len = (int)a->lengths[i / a->heads], hd = a->hd;
        const float *q = a->q + (long)i * hd, *k = a->k + (long)i * a->maxLen * hd, *v = a->v + (long)i * a->maxLen * hd;
        float *o = a->out + (long)i * hd;
        float m = -INFINITY;
        for (int s = 0; s < len; s++) {
            float d = 0;
            for (int j = 0; j < hd; j++) d += q[j] * k[(long)s * hd + j];
            d *= a->scale;
            scores[s] = d;
            if (d > m) m = d;
        }
        float z = 0;
        for (int s = 0; s < len; s++) { scores[s] = expf(scores[s] - m); z += scores[s]; }
        for (int j = 0; j < hd; j++) o[j] = 0;
        for (int s = 0; s < len; s++) {
            float w = scores[s] / z;
            for (int j = 0; j < hd; j++) o[j] += w * v[(long)s * hd + j];
        }
    }
}

/* Returns 0, or -1 before rema_kernels_init succeeded, or -3 when a sequence is longer than the score buffer. */
int rema_decode_attention(const float *q, const float *k, const float *v, float *out, const long *lengths,
                          int batch, int heads, int maxLen, int hd, float scale) {
    if (!gp) return -1;
    if (maxLen > MAX_POSITIONS) return -3;
    args_t a = {q, k, v, out, lengths, batch, heads, maxLen, hd, scale};
    gp(work, &a, 0, 0);
    return 0;
}
