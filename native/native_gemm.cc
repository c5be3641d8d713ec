// native_gemm: single-precision GEMM for TF.js's wasm backend, operating in place on the wasm heap.
//
// JS passes the heap as a Uint8Array (backend.wasm.HEAPU8 — a view of the wasm Memory, ArrayBuffer or
// SharedArrayBuffer) plus byte offsets of A, B, C (and bias); nothing is copied. Two engines:
//   - "blas": cblas_sgemm from a BLAS found at run time with dlopen (OpenBLAS, BLIS, MKL, Accelerate) — no
//     link-time dependency, so the addon loads on a machine without any BLAS;
//   - "own": a packed GotoBLAS-style kernel in this file, with a 12x32 AVX-512 or a 6x16 AVX2+FMA micro-kernel
//     selected at run time (__builtin_cpu_supports; the two give bit-identical products), and a portable scalar
//     micro-kernel otherwise.
// Every call is single-threaded in the calling thread (OpenBLAS' pthread build is told openblas_set_num_threads(1)),
// and the addon keeps no mutable global state besides thread_local packing buffers, so each worker_thread (with its
// own tfjs + wasm instance) can call it concurrently.
//
// Build (no node-gyp, no download):
//   node scripts/build-native.mjs   (c++ -O3 -std=c++17 -shared -fPIC -I<node headers> ... -ldl)
// The BLAS is looked up only when an engine that may use it is asked for (auto/blas), so the default engine
// ("own") never loads a BLAS, or its thread pool, into the process.
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define NG_X86 1
#include <immintrin.h>
#endif

namespace {

// ---------------------------------------------------------------- BLAS discovery (dlopen)
enum CblasOrder { RowMajor = 101 };
enum CblasTrans { NoTrans = 111, Trans = 112 };
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
typedef void (*set_threads_fn)(int);
typedef char* (*corename_fn)(void);

struct Blas {
  sgemm_fn sgemm = nullptr;
  std::string lib;
  std::string core;
  std::string error;
};

Blas g_blas;
std::once_flag g_blas_once;

void* open_lib(const char* name) {
#if defined(_WIN32)
  return (void*)LoadLibraryA(name);
#else
  return dlopen(name, RTLD_NOW | RTLD_LOCAL);
#endif
}
void* sym(void* h, const char* name) {
#if defined(_WIN32)
  return (void*)GetProcAddress((HMODULE)h, name);
#else
  return dlsym(h, name);
#endif
}

void load_blas() {
  std::vector<std::string> names;
  const char* env = std::getenv("AIMKP_BLAS_LIB");
  if (env && *env) {
    if (std::string(env) == "none") {
      g_blas.error = "disabled by AIMKP_BLAS_LIB=none";
      return;
    }
    names.push_back(env);
  } else {
#if defined(_WIN32)
    names = {"libopenblas.dll", "openblas.dll", "mkl_rt.2.dll", "mkl_rt.dll"};
#elif defined(__APPLE__)
    names = {"/System/Library/Frameworks/Accelerate.framework/Accelerate", "libopenblas.dylib",
             "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib"};
#else
    // Only optimised implementations: plain libblas.so.3 may be the reference BLAS (slower than wasm).
    names = {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libblis.so.4", "libblis.so", "libmkl_rt.so.2", "libmkl_rt.so"};
#endif
  }
  for (const auto& n : names) {
    void* h = open_lib(n.c_str());
    if (!h) continue;
    auto f = (sgemm_fn)sym(h, "cblas_sgemm");
    if (!f) continue;
    // One thread per call: the caller (a JS thread) owns its core. OpenBLAS' pthread/openmp builds honour this.
    if (auto st = (set_threads_fn)sym(h, "openblas_set_num_threads")) st(1);
    if (auto st = (set_threads_fn)sym(h, "bli_thread_set_num_threads")) st(1);
    if (auto st = (set_threads_fn)sym(h, "MKL_Set_Num_Threads")) st(1);
    g_blas.sgemm = f;
    g_blas.lib = n;
    if (auto cn = (corename_fn)sym(h, "openblas_get_corename")) g_blas.core = cn();
    return;
  }
  g_blas.error = "no optimised BLAS found (tried " + std::to_string(names.size()) + " names)";
}

// ---------------------------------------------------------------- own kernel
// A GotoBLAS-style blocked product over MR×NR register tiles. The tile is a template parameter because the packed
// layout follows it: 6×16 for AVX2 (12 ymm accumulators) and the scalar code, 12×32 for AVX-512 (24 zmm). Every
// element of C is the same chain of fused multiply-adds in k order (within a KC block, then added to C block by
// block) whichever tile computes it, so the AVX2 and AVX-512 kernels give bit-identical products.
constexpr int KC = 256, MC = 96, NC = 1024;  // A block 96x256 (96 KB, L2); B panel 256xNR (16 or 32 KB, L1)

struct Mat {  // strided view of op(X) (logical rows x cols) of a row-major matrix X
  const float* p;
  long rs, cs;  // element (i, j) = p[i*rs + j*cs]
};

// Packs op(A)[i0:i0+mc, k0:k0+kc] into MR-row panels: panel[p][k][r], zero-padded.
template <int MR>
void pack_a(const Mat& a, int i0, int mc, int k0, int kc, float* dst) {
  for (int ip = 0; ip < mc; ip += MR) {
    int mr = std::min(MR, mc - ip);
    const float* base = a.p + (long)(i0 + ip) * a.rs + (long)k0 * a.cs;
    if (a.cs == 1) {  // rows contiguous in k
      for (int k = 0; k < kc; k++) {
        for (int r = 0; r < mr; r++) dst[r] = base[r * a.rs + k];
        for (int r = mr; r < MR; r++) dst[r] = 0.f;
        dst += MR;
      }
    } else {  // transposed A: the MR rows are contiguous for each k
      for (int k = 0; k < kc; k++) {
        const float* src = base + (long)k * a.cs;
        for (int r = 0; r < mr; r++) dst[r] = src[r * a.rs];
        for (int r = mr; r < MR; r++) dst[r] = 0.f;
        dst += MR;
      }
    }
  }
}

// Packs op(B)[k0:k0+kc, j0:j0+nc] into NR-column panels: panel[p][k][c], zero-padded.
template <int NR>
void pack_b(const Mat& b, int k0, int kc, int j0, int nc, float* dst) {
  for (int jp = 0; jp < nc; jp += NR) {
    int nr = std::min(NR, nc - jp);
    const float* base = b.p + (long)k0 * b.rs + (long)(j0 + jp) * b.cs;
    if (b.cs == 1) {
      for (int k = 0; k < kc; k++) {
        const float* src = base + (long)k * b.rs;
        if (nr == NR) {
          std::memcpy(dst, src, NR * sizeof(float));
        } else {
          for (int c = 0; c < nr; c++) dst[c] = src[c];
          for (int c = nr; c < NR; c++) dst[c] = 0.f;
        }
        dst += NR;
      }
    } else {  // transposed B: column c of op(B) is contiguous in k
      for (int k = 0; k < kc; k++) {
        for (int c = 0; c < nr; c++) dst[c] = base[(long)c * b.cs + (long)k * b.rs];
        for (int c = nr; c < NR; c++) dst[c] = 0.f;
        dst += NR;
      }
    }
  }
}

// C[0:mr, 0:nr] (ldc) = (accumulate ? C : 0) + Ap · Bp over kc.
typedef void (*micro_fn)(int kc, const float* ap, const float* bp, float* c, long ldc, int mr, int nr, bool accumulate);

// Writes a full MR×NR tile of accumulators held in `tmp` to the valid mr×nr corner of C.
template <int MR, int NR>
inline void store_partial(const float (&tmp)[MR][NR], float* c, long ldc, int mr, int nr, bool accumulate) {
  for (int r = 0; r < mr; r++)
    for (int j = 0; j < nr; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + tmp[r][j] : tmp[r][j];
}

constexpr int MR_6 = 6, NR_16 = 16;

void micro_generic(int kc, const float* ap, const float* bp, float* c, long ldc, int mr, int nr, bool accumulate) {
  float acc[MR_6][NR_16] = {};
  for (int k = 0; k < kc; k++) {
    for (int r = 0; r < MR_6; r++) {
      float av = ap[k * MR_6 + r];
      for (int j = 0; j < NR_16; j++) acc[r][j] += av * bp[k * NR_16 + j];
    }
  }
  store_partial<MR_6, NR_16>(acc, c, ldc, mr, nr, accumulate);
}

#if NG_X86
__attribute__((target("avx2,fma"))) void micro_avx2(int kc, const float* ap, const float* bp, float* c, long ldc, int mr, int nr,
                                                     bool accumulate) {
  constexpr int MR = MR_6, NR = NR_16;
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int k = 0; k < kc; k++) {
    __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
    __m256 a;
    a = _mm256_broadcast_ss(ap + 0); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(ap + 1); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(ap + 2); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(ap + 3); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(ap + 4); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(ap + 5); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    ap += MR;
    bp += NR;
  }
  __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (mr == MR && nr == NR) {
    for (int r = 0; r < MR; r++) {
      float* cr = c + r * ldc;
      if (accumulate) {
        _mm256_storeu_ps(cr, _mm256_add_ps(_mm256_loadu_ps(cr), acc[r][0]));
        _mm256_storeu_ps(cr + 8, _mm256_add_ps(_mm256_loadu_ps(cr + 8), acc[r][1]));
      } else {
        _mm256_storeu_ps(cr, acc[r][0]);
        _mm256_storeu_ps(cr + 8, acc[r][1]);
      }
    }
    return;
  }
  alignas(32) float tmp[MR][NR];
  for (int r = 0; r < MR; r++) {
    _mm256_store_ps(tmp[r], acc[r][0]);
    _mm256_store_ps(tmp[r] + 8, acc[r][1]);
  }
  store_partial<MR, NR>(tmp, c, ldc, mr, nr, accumulate);
}

constexpr int MR_12 = 12, NR_32 = 32;

// 12×32: 24 zmm accumulators (two FMA ports × four cycles of latency need ≥ 8 chains; 24 also amortises the two
// B loads per k). The 12 rows are written out rather than looped so the accumulators stay in registers.
__attribute__((target("avx512f"))) void micro_avx512(int kc, const float* ap, const float* bp, float* c, long ldc, int mr,
                                                      int nr, bool accumulate) {
  constexpr int MR = MR_12, NR = NR_32;
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
  __m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(), c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
  __m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
  __m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
  __m512 c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps(), c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps();
  __m512 ca0 = _mm512_setzero_ps(), ca1 = _mm512_setzero_ps(), cb0 = _mm512_setzero_ps(), cb1 = _mm512_setzero_ps();
  for (int k = 0; k < kc; k++) {
    __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
    __m512 a;
    a = _mm512_set1_ps(ap[0]); c00 = _mm512_fmadd_ps(a, b0, c00); c01 = _mm512_fmadd_ps(a, b1, c01);
    a = _mm512_set1_ps(ap[1]); c10 = _mm512_fmadd_ps(a, b0, c10); c11 = _mm512_fmadd_ps(a, b1, c11);
    a = _mm512_set1_ps(ap[2]); c20 = _mm512_fmadd_ps(a, b0, c20); c21 = _mm512_fmadd_ps(a, b1, c21);
    a = _mm512_set1_ps(ap[3]); c30 = _mm512_fmadd_ps(a, b0, c30); c31 = _mm512_fmadd_ps(a, b1, c31);
    a = _mm512_set1_ps(ap[4]); c40 = _mm512_fmadd_ps(a, b0, c40); c41 = _mm512_fmadd_ps(a, b1, c41);
    a = _mm512_set1_ps(ap[5]); c50 = _mm512_fmadd_ps(a, b0, c50); c51 = _mm512_fmadd_ps(a, b1, c51);
    a = _mm512_set1_ps(ap[6]); c60 = _mm512_fmadd_ps(a, b0, c60); c61 = _mm512_fmadd_ps(a, b1, c61);
    a = _mm512_set1_ps(ap[7]); c70 = _mm512_fmadd_ps(a, b0, c70); c71 = _mm512_fmadd_ps(a, b1, c71);
    a = _mm512_set1_ps(ap[8]); c80 = _mm512_fmadd_ps(a, b0, c80); c81 = _mm512_fmadd_ps(a, b1, c81);
    a = _mm512_set1_ps(ap[9]); c90 = _mm512_fmadd_ps(a, b0, c90); c91 = _mm512_fmadd_ps(a, b1, c91);
    a = _mm512_set1_ps(ap[10]); ca0 = _mm512_fmadd_ps(a, b0, ca0); ca1 = _mm512_fmadd_ps(a, b1, ca1);
    a = _mm512_set1_ps(ap[11]); cb0 = _mm512_fmadd_ps(a, b0, cb0); cb1 = _mm512_fmadd_ps(a, b1, cb1);
    ap += MR;
    bp += NR;
  }
  __m512 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51},
                       {c60, c61}, {c70, c71}, {c80, c81}, {c90, c91}, {ca0, ca1}, {cb0, cb1}};
  if (mr == MR && nr == NR) {
    for (int r = 0; r < MR; r++) {
      float* cr = c + r * ldc;
      if (accumulate) {
        _mm512_storeu_ps(cr, _mm512_add_ps(_mm512_loadu_ps(cr), acc[r][0]));
        _mm512_storeu_ps(cr + 16, _mm512_add_ps(_mm512_loadu_ps(cr + 16), acc[r][1]));
      } else {
        _mm512_storeu_ps(cr, acc[r][0]);
        _mm512_storeu_ps(cr + 16, acc[r][1]);
      }
    }
    return;
  }
  alignas(64) float tmp[MR][NR];
  for (int r = 0; r < MR; r++) {
    _mm512_store_ps(tmp[r], acc[r][0]);
    _mm512_store_ps(tmp[r] + 16, acc[r][1]);
  }
  store_partial<MR, NR>(tmp, c, ldc, mr, nr, accumulate);
}
#endif

// AIMKP_GEMM_KERNEL: unset or "auto" (the widest the CPU has), "avx512", "avx2" or "generic" (the scalar code, also
// for the vector kernels). A request the CPU cannot run falls back to the next narrower one.
std::string gemm_kernel_request() {
  const char* force = std::getenv("AIMKP_GEMM_KERNEL");
  return force ? std::string(force) : std::string();
}

// Whether the AVX2+FMA code may run: the CPU has both and AIMKP_GEMM_KERNEL=generic does not force the scalar code.
bool use_avx2_fma() {
#if NG_X86
  if (gemm_kernel_request() == "generic") return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

// Whether the AVX-512 matmul kernel may run: AVX-512F on the CPU (and the OS saving zmm state, which
// __builtin_cpu_supports checks), and AIMKP_GEMM_KERNEL asks for auto or avx512.
bool use_avx512() {
#if NG_X86
  std::string req = gemm_kernel_request();
  if (!(req.empty() || req == "auto" || req == "avx512")) return false;
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

struct OwnKernel {
  micro_fn micro;
  int mr, nr;
  std::string name;
};

OwnKernel pick_kernel() {
#if NG_X86
  if (use_avx512()) return {micro_avx512, MR_12, NR_32, "avx512f-12x32"};
  if (use_avx2_fma()) return {micro_avx2, MR_6, NR_16, "avx2-fma-6x16"};
#endif
  return {micro_generic, MR_6, NR_16, "generic-6x16"};
}

const OwnKernel g_kernel = pick_kernel();

struct Buffers {
  std::vector<float> a, b;
};
thread_local Buffers tl_buf;

// C (m x n, row-major, ldc = n) = op(A) · op(B), on MR×NR tiles.
template <int MR, int NR>
void own_gemm_tiled(micro_fn micro, const Mat& a, const Mat& b, float* c, int m, int n, int k) {
  static_assert(MC % MR == 0 && NC % NR == 0, "blocks hold whole tiles");
  Buffers& buf = tl_buf;
  int ncMax = std::min(NC, (n + NR - 1) / NR * NR), kcMax = std::min(KC, k), mcMax = std::min(MC, (m + MR - 1) / MR * MR);
  if ((int)buf.b.size() < ncMax * kcMax) buf.b.resize((size_t)ncMax * kcMax);
  if ((int)buf.a.size() < mcMax * kcMax) buf.a.resize((size_t)mcMax * kcMax);
  float* bp = buf.b.data();
  float* ap = buf.a.data();
  for (int jc = 0; jc < n; jc += NC) {
    int nc = std::min(NC, n - jc);
    for (int pc = 0; pc < k; pc += KC) {
      int kc = std::min(KC, k - pc);
      pack_b<NR>(b, pc, kc, jc, nc, bp);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = std::min(MC, m - ic);
        pack_a<MR>(a, ic, mc, pc, kc, ap);
        for (int jr = 0; jr < nc; jr += NR) {
          int nr = std::min(NR, nc - jr);
          const float* bpanel = bp + (long)(jr / NR) * NR * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            int mr = std::min(MR, mc - ir);
            micro(kc, ap + (long)(ir / MR) * MR * kc, bpanel, c + (long)(ic + ir) * n + jc + jr, n, mr, nr, pc > 0);
          }
        }
      }
    }
  }
}

void own_gemm(const Mat& a, const Mat& b, float* c, int m, int n, int k) {
  if (k == 0) {
    for (long i = 0; i < (long)m * n; i++) c[i] = 0.f;
    return;
  }
  if (g_kernel.mr == MR_12)
    own_gemm_tiled<MR_12, NR_32>(g_kernel.micro, a, b, c, m, n, k);
  else
    own_gemm_tiled<MR_6, NR_16>(g_kernel.micro, a, b, c, m, n, k);
}

// Small products: a direct loop beats packing (and BLAS call overhead).
void tiny_gemm(const Mat& a, const Mat& b, float* c, int m, int n, int k) {
  for (int i = 0; i < m; i++) {
    float* cr = c + (long)i * n;
    for (int j = 0; j < n; j++) cr[j] = 0.f;
    for (int p = 0; p < k; p++) {
      float av = a.p[i * a.rs + p * a.cs];
      const float* br = b.p + p * b.rs;
      if (b.cs == 1)
        for (int j = 0; j < n; j++) cr[j] += av * br[j];
      else
        for (int j = 0; j < n; j++) cr[j] += av * br[j * b.cs];
    }
  }
}

// ---------------------------------------------------------------- epilogue (bias + activation)
enum Act { LINEAR = 0, RELU = 1, RELU6 = 2, LEAKYRELU = 3, SIGMOID = 4, ELU = 5, PRELU = 6 };

void epilogue(float* c, long rows, int n, const float* bias, int biasLen, int act, float alpha, const float* prelu, int preluLen) {
  if (!bias && act == LINEAR) return;
  for (long i = 0; i < rows; i++) {
    float* cr = c + i * n;
    for (int j = 0; j < n; j++) {
      float v = cr[j];
      if (bias) v += biasLen == 1 ? bias[0] : bias[j];
      switch (act) {
        case RELU: v = v > 0.f ? v : 0.f; break;
        case RELU6: v = std::min(std::max(v, 0.f), 6.f); break;
        case LEAKYRELU: v = v < 0.f ? alpha * v : v; break;
        case SIGMOID: v = 1.f / (1.f + std::exp(-v)); break;
        case ELU: v = v < 0.f ? std::expm1(v) : v; break;
        case PRELU: v = v < 0.f ? (preluLen == 1 ? prelu[0] : prelu[j]) * v : v; break;
        default: break;
      }
      cr[j] = v;
    }
  }
}

// ---------------------------------------------------------------- cross-entropy over the vocabulary
// The training loss's head as one pass per row instead of tf's logSoftmax · oneHot chain (about ten kernels that
// each stream the rows × V logits through memory, two of them wasm's scalar exp: 40 % of a pretraining step).
// Forward, per row of V logits: m = max, lse = m + log Σ exp(x − m), nll = lse − x[target]. Backward:
// dx = dnll · (exp(x − lse) − [i = target]). Sums run in 8 float lanes (AVX2) or in order (generic); the exp is
// Cephes' single-precision polynomial (≤ 2 ulp) on AVX2 and the C library's expf otherwise.

// GELU's constants and scalar pieces (the GELU section below), shared by its vector and scalar loops.
constexpr float kGeluC = 0.7978845608028654f, kGeluA = 0.044715f;

inline float gelu_tanh(float v) { return std::tanh(kGeluC * (v + kGeluA * v * v * v)); }
inline float gelu_slope(float v, float t) {
  return 0.5f * (1.f + t) + 0.5f * v * (1.f - t * t) * (kGeluC + 3.f * kGeluA * kGeluC * v * v);
}

#if NG_X86
__attribute__((target("avx2,fma"))) inline __m256 exp256(__m256 x) {
  // exp(x) = 2^n · e^r, n = round(x / ln 2), r = x − n ln 2 (ln 2 split in two for precision).
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3365f)), _mm256_set1_ps(88.3762f));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

__attribute__((target("avx2,fma"))) inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float row_lse_avx2(const float* x, int V) {
  __m256 mv = _mm256_set1_ps(-INFINITY);
  int i = 0;
  for (; i + 8 <= V; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
  float tmp[8];
  _mm256_storeu_ps(tmp, mv);
  float m = tmp[0];
  for (int j = 1; j < 8; j++) m = std::max(m, tmp[j]);
  for (int j = i; j < V; j++) m = std::max(m, x[j]);
  if (!(m > -INFINITY)) return m;  // every logit −inf (or NaN): no distribution
  __m256 mm = _mm256_set1_ps(m), sv = _mm256_setzero_ps();
  for (i = 0; i + 8 <= V; i += 8) sv = _mm256_add_ps(sv, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), mm)));
  float s = hsum256(sv);
  for (int j = i; j < V; j++) s += std::exp(x[j] - m);
  return m + std::log(s);
}

__attribute__((target("avx2,fma"))) void row_grad_avx2(const float* x, float lse, float g, float* out, int V) {
  __m256 l = _mm256_set1_ps(lse), gv = _mm256_set1_ps(g);
  int i = 0;
  for (; i + 8 <= V; i += 8)
    _mm256_storeu_ps(out + i, _mm256_mul_ps(gv, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), l))));
  for (; i < V; i++) out[i] = g * std::exp(x[i] - lse);
}
// GELU, tanh approximation: y = 0.5·x·(1 + th), th = tanh(c·(x + 0.044715·x³)), c = √(2/π); the backward
// recomputes th from x (cheaper than keeping it: tf copies every tensor a custom gradient saves) and takes
// dx = dy·(0.5·(1 + th) + 0.5·x·(1 − th²)·c·(1 + 3·0.044715·x²)). tanh(z) = 1 − 2 / (e^{2z} + 1): absolute error
// ≈ 1e-7, which is what 1 + th and 1 − th² need (tf's wasm Tanh is the C library's tanhf, one value at a time).
__attribute__((target("avx2,fma"))) inline __m256 gelu_tanh256(__m256 v) {
  const __m256 one = _mm256_set1_ps(1.f), two = _mm256_set1_ps(2.f);
  __m256 z = _mm256_mul_ps(_mm256_set1_ps(kGeluC), _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(kGeluA), v), _mm256_mul_ps(v, v), v));
  return _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(exp256(_mm256_add_ps(z, z)), one)));
}

__attribute__((target("avx2,fma"))) void gelu_fwd_avx2(const float* x, float* y, int64_t n) {
  const __m256 one = _mm256_set1_ps(1.f), half = _mm256_set1_ps(0.5f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, gelu_tanh256(v))));
  }
  for (; i < n; i++) y[i] = 0.5f * x[i] * (1.f + gelu_tanh(x[i]));
}

__attribute__((target("avx2,fma"))) void gelu_grad_avx2(const float* x, const float* dy, float* out, int64_t n) {
  const __m256 c = _mm256_set1_ps(kGeluC), c3a = _mm256_set1_ps(3.f * kGeluA * kGeluC), one = _mm256_set1_ps(1.f),
               half = _mm256_set1_ps(0.5f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i), t = gelu_tanh256(v);
    __m256 inner = _mm256_fmadd_ps(c3a, _mm256_mul_ps(v, v), c);
    __m256 sech2 = _mm256_fnmadd_ps(t, t, one);
    __m256 d = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_mul_ps(half, v), sech2), inner, _mm256_mul_ps(half, _mm256_add_ps(one, t)));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), d));
  }
  for (; i < n; i++) out[i] = dy[i] * gelu_slope(x[i], gelu_tanh(x[i]));
}
#endif

void gelu_fwd_generic(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.f + gelu_tanh(x[i]));
}

void gelu_grad_generic(const float* x, const float* dy, float* out, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = dy[i] * gelu_slope(x[i], gelu_tanh(x[i]));
}

float row_lse_generic(const float* x, int V) {
  float m = -INFINITY;
  for (int i = 0; i < V; i++) m = std::max(m, x[i]);
  if (!(m > -INFINITY)) return m;
  float s = 0.f;
  for (int i = 0; i < V; i++) s += std::exp(x[i] - m);
  return m + std::log(s);
}

void row_grad_generic(const float* x, float lse, float g, float* out, int V) {
  for (int i = 0; i < V; i++) out[i] = g * std::exp(x[i] - lse);
}

// Dropout, as tf composes it: keep_i = float32(u_i) >= rate, u_i the Alea stream tf.randomUniform draws, continued
// from (s0, s1, s2, c) in doubles exactly as JavaScript computes them (the addon is built with -std=c++17, so no
// multiply-add is contracted); y = (x · keep) / div, div = float32(1 − rate); backward dx = (dy / div) · keep. The
// same float operations in the same order as tf's Multiply and RealDiv, so y and dx equal tf's bit for bit. The
// mask is kept as bytes for the backward.
//
// The Alea loop: c = t | 0 is trunc(t) (t lies in [0, 2091640)); the carry chain (c → t → c) bounds its speed, so
// the AVX2 build takes floor(t) with one rounding instruction instead of two conversions (8.6 → 5–7 ns per value
// here). Same doubles either way.
template <bool kFloor>
__attribute__((always_inline)) inline void dropout_loop(const float* x, float* y, uint8_t* keep, int64_t n, double s0,
                                                        double s1, double s2, double c, float rate, float div) {
  for (int64_t i = 0; i < n; i++) {
    double t = 2091639.0 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = kFloor ? std::floor(t) : (double)(int32_t)t;
    s2 = t - c;
    bool k = (float)s2 >= rate;
    keep[i] = k;
    y[i] = (x[i] * (k ? 1.f : 0.f)) / div;
  }
}

void dropout_trunc(const float* x, float* y, uint8_t* keep, int64_t n, double s0, double s1, double s2, double c,
                   float rate, float div) {
  dropout_loop<false>(x, y, keep, n, s0, s1, s2, c, rate, div);
}

#if NG_X86
__attribute__((target("avx2"))) void dropout_floor(const float* x, float* y, uint8_t* keep, int64_t n, double s0,
                                                   double s1, double s2, double c, float rate, float div) {
  dropout_loop<true>(x, y, keep, n, s0, s1, s2, c, rate, div);
}
#endif

// The vector loops above (cross-entropy, GELU, dropout), picked once as the matmul micro-kernel is: AVX2+FMA where
// the CPU has them; AIMKP_GEMM_KERNEL=generic forces the scalar ones.
struct VectorLoops {
  float (*row_lse)(const float* x, int V);
  void (*row_grad)(const float* x, float lse, float g, float* out, int V);
  void (*gelu_fwd)(const float* x, float* y, int64_t n);
  void (*gelu_grad)(const float* x, const float* dy, float* out, int64_t n);
  void (*dropout)(const float* x, float* y, uint8_t* keep, int64_t n, double s0, double s1, double s2, double c,
                  float rate, float div);
};

VectorLoops pick_vector_loops() {
#if NG_X86
  if (use_avx2_fma()) return {row_lse_avx2, row_grad_avx2, gelu_fwd_avx2, gelu_grad_avx2, dropout_floor};
#endif
  return {row_lse_generic, row_grad_generic, gelu_fwd_generic, gelu_grad_generic, dropout_trunc};
}
const VectorLoops g_vec = pick_vector_loops();

// ---------------------------------------------------------------- N-API glue
std::atomic<long> g_calls_blas{0}, g_calls_own{0}, g_calls_tiny{0};

napi_value throw_err(napi_env env, const char* msg) {
  napi_throw_error(env, "NATIVE_GEMM", msg);
  return nullptr;
}

// gemm(heapU8, aOff, bOff, cOff, batch, m, n, k, transA, transB, aBatchStride, bBatchStride,
//      biasOff, biasLen, act, alpha, engine, preluOff, preluLen)
//   offsets in bytes; batch strides in elements (0 = broadcast that operand); biasOff < 0: no bias;
//   engine: 0 auto, 1 blas, 2 own, 3 tiny. Returns the engine used (1/2/3).
napi_value Gemm(napi_env env, napi_callback_info info) {
  size_t argc = 19;
  napi_value argv[19];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 19) return throw_err(env, "gemm: expected 19 arguments");
  napi_typedarray_type tt;
  size_t len = 0;
  void* data = nullptr;
  napi_value ab;
  size_t byteOffset = 0;
  if (napi_get_typedarray_info(env, argv[0], &tt, &len, &data, &ab, &byteOffset) != napi_ok || tt != napi_uint8_array)
    return throw_err(env, "gemm: argument 0 must be the heap as a Uint8Array");
  if (data == nullptr || len == 0) return throw_err(env, "gemm: heap view is detached (wasm memory grew?): re-read HEAPU8");
  double d[18];
  for (int i = 0; i < 18; i++) {
    if (napi_get_value_double(env, argv[i + 1], &d[i]) != napi_ok) return throw_err(env, "gemm: numeric arguments expected");
  }
  int64_t aOff = (int64_t)d[0], bOff = (int64_t)d[1], cOff = (int64_t)d[2];
  int batch = (int)d[3], m = (int)d[4], n = (int)d[5], k = (int)d[6];
  bool ta = d[7] != 0, tb = d[8] != 0;
  int64_t sa = (int64_t)d[9], sb = (int64_t)d[10];
  int64_t biasOff = (int64_t)d[11];
  int biasLen = (int)d[12], act = (int)d[13];
  float alpha = (float)d[14];
  int engine = (int)d[15];
  int64_t preluOff = (int64_t)d[16];
  int preluLen = (int)d[17];
  if (batch < 0 || m < 0 || n < 0 || k < 0 || sa < 0 || sb < 0) return throw_err(env, "gemm: negative size");
  if ((aOff | bOff | cOff) & 3) return throw_err(env, "gemm: misaligned offset (must be a multiple of 4)");
  // Bounds: every element touched must lie inside the heap.
  auto inside = [&](int64_t off, int64_t elems) { return off >= 0 && off + elems * 4 <= (int64_t)len; };
  int64_t aLast = (int64_t)(batch > 0 ? batch - 1 : 0) * sa + (int64_t)m * k;
  int64_t bLast = (int64_t)(batch > 0 ? batch - 1 : 0) * sb + (int64_t)k * n;
  if (!inside(aOff, aLast) || !inside(bOff, bLast) || !inside(cOff, (int64_t)batch * m * n))
    return throw_err(env, "gemm: operand out of heap bounds");
  if (biasOff >= 0 && (!inside(biasOff, biasLen) || (biasLen != 1 && biasLen != n) || (biasOff & 3)))
    return throw_err(env, "gemm: bad bias");
  if (act == PRELU && (preluOff < 0 || !inside(preluOff, preluLen) || (preluLen != 1 && preluLen != n) || (preluOff & 3)))
    return throw_err(env, "gemm: bad prelu weights");
  uint8_t* heap = (uint8_t*)data;
  const float* A = (const float*)(heap + aOff);
  const float* B = (const float*)(heap + bOff);
  float* C = (float*)(heap + cOff);
  const float* bias = biasOff >= 0 ? (const float*)(heap + biasOff) : nullptr;
  const float* prelu = act == PRELU ? (const float*)(heap + preluOff) : nullptr;

  if (engine == 0 || engine == 1) std::call_once(g_blas_once, load_blas);
  if (k == 0) {  // empty inner dimension: zeros (then bias/activation)
    std::memset(C, 0, (size_t)batch * m * n * sizeof(float));
    epilogue(C, (long)batch * m, n, bias, biasLen, act, alpha, prelu, preluLen);
    napi_value ret;
    napi_create_int32(env, 3, &ret);
    return ret;
  }
  if (engine == 1 && !g_blas.sgemm) return throw_err(env, "gemm: no BLAS loaded");
  int used = engine;
  // Small products: a direct loop beats packing and a BLAS call's overhead.
  if (used != 1 && (double)m * n * k <= 4096.0) used = 3;
  if (used == 0) used = g_blas.sgemm ? 1 : 2;

  // A shared (broadcast) B and an untransposed A: fold the batch into the rows (one big product).
  int gb = batch, gm = m;
  if (batch > 1 && sb == 0 && !ta && sa == (int64_t)m * k) {
    gm = m * batch;
    gb = 1;
  }
  for (int bi = 0; bi < gb; bi++) {
    const float* a = A + bi * sa;
    const float* b = B + bi * sb;
    float* c = C + (int64_t)bi * gm * n;
    if (used == 1) {
      g_blas.sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, gm, n, k, 1.0f, a, ta ? gm : k, b, tb ? k : n, 0.0f, c, n);
    } else {
      Mat ma{a, ta ? 1 : (long)k, ta ? (long)gm : 1};
      Mat mb{b, tb ? 1 : (long)n, tb ? (long)k : 1};
      if (used == 3)
        tiny_gemm(ma, mb, c, gm, n, k);
      else
        own_gemm(ma, mb, c, gm, n, k);
    }
  }
  (used == 1 ? g_calls_blas : used == 2 ? g_calls_own : g_calls_tiny)++;
  epilogue(C, (long)batch * m, n, bias, biasLen, act, alpha, prelu, preluLen);
  napi_value ret;
  napi_create_int32(env, used, &ret);
  return ret;
}

// The wasm heap as a vector kernel's call names it; every operand is checked with `has` before it is touched.
struct HeapView {
  uint8_t* base = nullptr;
  size_t len = 0;
  // `count` elements of `elemBytes` bytes at byte offset `off`: inside the heap and aligned to their size.
  bool has(int64_t off, int64_t count, int64_t elemBytes = 4) const {
    return off >= 0 && count >= 0 && off % elemBytes == 0 && off + count * elemBytes <= (int64_t)len;
  }
  template <class T>
  T* at(int64_t off) const {
    return (T*)(base + off);
  }
};

// Reads the heap and `count` numbers after it; false (with a JS error thrown) when the call is malformed.
bool heap_args(napi_env env, napi_callback_info info, const char* fn, size_t count, HeapView* heap, double* d) {
  napi_value argv[16];
  size_t argc = 16;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != count + 1) {
    throw_err(env, (std::string(fn) + ": wrong number of arguments").c_str());
    return false;
  }
  napi_typedarray_type tt;
  void* data = nullptr;
  napi_value ab;
  size_t byteOffset = 0;
  if (napi_get_typedarray_info(env, argv[0], &tt, &heap->len, &data, &ab, &byteOffset) != napi_ok || tt != napi_uint8_array) {
    throw_err(env, (std::string(fn) + ": argument 0 must be the heap as a Uint8Array").c_str());
    return false;
  }
  if (data == nullptr || heap->len == 0) {
    throw_err(env, (std::string(fn) + ": heap view is detached (wasm memory grew?): re-read HEAPU8").c_str());
    return false;
  }
  for (size_t i = 0; i < count; i++) {
    if (napi_get_value_double(env, argv[i + 1], &d[i]) != napi_ok) {
      throw_err(env, (std::string(fn) + ": numeric arguments expected").c_str());
      return false;
    }
  }
  heap->base = (uint8_t*)data;
  return true;
}

// xent(heapU8, logitsOff, targetsOff, nllOff, lseOff, rows, V): per row nll = lse − x[target] and lse (float32 out;
// targets int32). Offsets in bytes. A target outside [0, V) gives NaN (tf's oneHot would give a loss of lse).
napi_value Xent(napi_env env, napi_callback_info info) {
  HeapView heap;
  double d[6];
  if (!heap_args(env, info, "xent", 6, &heap, d)) return nullptr;
  int64_t xOff = (int64_t)d[0], tOff = (int64_t)d[1], nOff = (int64_t)d[2], lOff = (int64_t)d[3];
  int64_t rows = (int64_t)d[4], V = (int64_t)d[5];
  if (rows < 0 || V <= 0 || V > INT32_MAX || !heap.has(xOff, rows * V) || !heap.has(tOff, rows) || !heap.has(nOff, rows) ||
      !heap.has(lOff, rows))
    return throw_err(env, "xent: operand out of heap bounds, misaligned, or bad size");
  const float* x = heap.at<const float>(xOff);
  const int32_t* t = heap.at<const int32_t>(tOff);
  float* nll = heap.at<float>(nOff);
  float* lse = heap.at<float>(lOff);
  for (int64_t r = 0; r < rows; r++) {
    const float* xr = x + r * V;
    float l = g_vec.row_lse(xr, (int)V);
    lse[r] = l;
    nll[r] = t[r] >= 0 && t[r] < V ? l - xr[t[r]] : NAN;
  }
  return nullptr;
}

// xentGrad(heapU8, logitsOff, targetsOff, lseOff, dnllOff, outOff, rows, V): out = dnll · (softmax − onehot).
napi_value XentGrad(napi_env env, napi_callback_info info) {
  HeapView heap;
  double d[7];
  if (!heap_args(env, info, "xentGrad", 7, &heap, d)) return nullptr;
  int64_t xOff = (int64_t)d[0], tOff = (int64_t)d[1], lOff = (int64_t)d[2], gOff = (int64_t)d[3], oOff = (int64_t)d[4];
  int64_t rows = (int64_t)d[5], V = (int64_t)d[6];
  if (rows < 0 || V <= 0 || V > INT32_MAX || !heap.has(xOff, rows * V) || !heap.has(tOff, rows) || !heap.has(lOff, rows) ||
      !heap.has(gOff, rows) || !heap.has(oOff, rows * V))
    return throw_err(env, "xentGrad: operand out of heap bounds, misaligned, or bad size");
  const float* x = heap.at<const float>(xOff);
  const int32_t* t = heap.at<const int32_t>(tOff);
  const float* lse = heap.at<const float>(lOff);
  const float* g = heap.at<const float>(gOff);
  float* out = heap.at<float>(oOff);
  for (int64_t r = 0; r < rows; r++) {
    float* o = out + r * V;
    if (g[r] == 0.f) {  // padding rows (loss weight 0): no gradient, and no exp to compute
      std::memset(o, 0, (size_t)V * sizeof(float));
      continue;
    }
    g_vec.row_grad(x + r * V, lse[r], g[r], o, (int)V);
    if (t[r] >= 0 && t[r] < V) o[t[r]] -= g[r];
  }
  return nullptr;
}

// dropout(heapU8, xOff, yOff, keepOff, n, s0, s1, s2, c, rate, div): x, y float32; keep uint8; rate, div float32.
napi_value Dropout(napi_env env, napi_callback_info info) {
  HeapView heap;
  double d[10];
  if (!heap_args(env, info, "dropout", 10, &heap, d)) return nullptr;
  int64_t xOff = (int64_t)d[0], yOff = (int64_t)d[1], kOff = (int64_t)d[2], n = (int64_t)d[3];
  if (!heap.has(xOff, n) || !heap.has(yOff, n) || !heap.has(kOff, n, 1))
    return throw_err(env, "dropout: operand out of heap bounds or misaligned");
  const float* x = heap.at<const float>(xOff);
  float* y = heap.at<float>(yOff);
  uint8_t* keep = heap.at<uint8_t>(kOff);
  const float rate = (float)d[8], div = (float)d[9];
  g_vec.dropout(x, y, keep, n, d[4], d[5], d[6], d[7], rate, div);
  return nullptr;
}

// dropoutGrad(heapU8, dyOff, keepOff, outOff, n, div): out = (dy / div) · keep.
napi_value DropoutGrad(napi_env env, napi_callback_info info) {
  HeapView heap;
  double d[5];
  if (!heap_args(env, info, "dropoutGrad", 5, &heap, d)) return nullptr;
  int64_t gOff = (int64_t)d[0], kOff = (int64_t)d[1], oOff = (int64_t)d[2], n = (int64_t)d[3];
  if (!heap.has(gOff, n) || !heap.has(oOff, n) || !heap.has(kOff, n, 1))
    return throw_err(env, "dropoutGrad: operand out of heap bounds or misaligned");
  const float* dy = heap.at<const float>(gOff);
  const uint8_t* keep = heap.at<const uint8_t>(kOff);
  float* out = heap.at<float>(oOff);
  const float div = (float)d[4];
  for (int64_t i = 0; i < n; i++) out[i] = (dy[i] / div) * (keep[i] ? 1.f : 0.f);
  return nullptr;
}

// gelu(heapU8, xOff, yOff, n) and geluGrad(heapU8, xOff, dyOff, outOff, n): float32, offsets in bytes.
napi_value Gelu(napi_env env, napi_callback_info info) {
  HeapView heap;
  double d[3];
  if (!heap_args(env, info, "gelu", 3, &heap, d)) return nullptr;
  int64_t xOff = (int64_t)d[0], yOff = (int64_t)d[1], n = (int64_t)d[2];
  if (!heap.has(xOff, n) || !heap.has(yOff, n)) return throw_err(env, "gelu: operand out of heap bounds or misaligned");
  const float* x = heap.at<const float>(xOff);
  float* y = heap.at<float>(yOff);
  g_vec.gelu_fwd(x, y, n);
  return nullptr;
}

napi_value GeluGrad(napi_env env, napi_callback_info info) {
  HeapView heap;
  double d[4];
  if (!heap_args(env, info, "geluGrad", 4, &heap, d)) return nullptr;
  int64_t xOff = (int64_t)d[0], gOff = (int64_t)d[1], oOff = (int64_t)d[2], n = (int64_t)d[3];
  if (!heap.has(xOff, n) || !heap.has(gOff, n) || !heap.has(oOff, n))
    return throw_err(env, "geluGrad: operand out of heap bounds or misaligned");
  const float* x = heap.at<const float>(xOff);
  const float* dy = heap.at<const float>(gOff);
  float* out = heap.at<float>(oOff);
  g_vec.gelu_grad(x, dy, out, n);
  return nullptr;
}

napi_value set_str(napi_env env, napi_value obj, const char* key, const std::string& v) {
  napi_value s;
  napi_create_string_utf8(env, v.c_str(), v.size(), &s);
  napi_set_named_property(env, obj, key, s);
  return obj;
}

// info(probeBlas?): the own kernel's name, call counts, and (after probing, or once an engine looked) the BLAS.
napi_value Info(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  bool probe = false;
  if (napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr) == napi_ok && argc >= 1) napi_get_value_bool(env, argv[0], &probe);
  if (probe) std::call_once(g_blas_once, load_blas);
  napi_value o, nul, num;
  napi_create_object(env, &o);
  napi_get_null(env, &nul);
  if (g_blas.sgemm) {
    set_str(env, o, "blas", g_blas.lib);
    set_str(env, o, "blasCore", g_blas.core);
  } else {
    napi_set_named_property(env, o, "blas", nul);
    if (!g_blas.error.empty()) set_str(env, o, "blasError", g_blas.error);
  }
  set_str(env, o, "ownKernel", g_kernel.name);
  napi_create_int64(env, g_calls_blas.load(), &num);
  napi_set_named_property(env, o, "callsBlas", num);
  napi_create_int64(env, g_calls_own.load(), &num);
  napi_set_named_property(env, o, "callsOwn", num);
  napi_create_int64(env, g_calls_tiny.load(), &num);
  napi_set_named_property(env, o, "callsTiny", num);
  return o;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xent", nullptr, Xent, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"xentGrad", nullptr, XentGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dropout", nullptr, Dropout, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"dropoutGrad", nullptr, DropoutGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gelu", nullptr, Gelu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"geluGrad", nullptr, GeluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
