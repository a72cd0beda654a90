/*===- buffer_cache_main.c - temporaries reused across calls ---------------===*
 *
 * Calls qlow_twice_transposed (buffer-cache.mlir: y = transpose(x + x), whose
 * 3200x3200 f32 sum is a 40 MB temporary: above glibc's largest mmap
 * threshold, so plain malloc/free maps and unmaps it on every call) and
 * checks that:
 *   - after a first call, further calls fault in almost none of the
 *     temporary's pages (the compiled code's buffer cache gives the freed
 *     block back), measured with getrusage's minor faults;
 *   - four threads calling the model at once (each its own output) all get
 *     the right values (the cache is shared by the callers).
 *
 *===----------------------------------------------------------------------===*/
#include "model.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

enum { N = 3200, CALLS = 10, THREADS = 4, THREAD_CALLS = 5 };

static float *x;

static long minorFaults(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

/* Mismatches of y against transpose(x + x). */
static long mismatches(const float *y) {
  long bad = 0;
  for (long i = 0; i < N; ++i)
    for (long j = 0; j < N; ++j)
      bad += y[i * N + j] != x[j * N + i] + x[j * N + i];
  return bad;
}

static void *caller(void *arg) {
  float *y = malloc(sizeof(float) * N * N);
  long bad = 0;
  for (int c = 0; c < THREAD_CALLS; ++c) {
    memset(y, 0, sizeof(float) * N * N);
    qlow_twice_transposed(x, y);
    bad += mismatches(y);
  }
  free(y);
  *(long *)arg = bad;
  return NULL;
}

int main(void) {
  x = malloc(sizeof(float) * N * N);
  float *y = malloc(sizeof(float) * N * N);
  for (long k = 0; k < (long)N * N; ++k)
    x[k] = (float)((k * 7919) % 1000) * 0.25f - 100.0f;
  memset(y, 0, sizeof(float) * N * N);
  qlow_twice_transposed(x, y);
  if (mismatches(y)) {
    printf("buffer-cache: wrong values after the first call\n");
    return 1;
  }
  long before = minorFaults();
  for (int c = 0; c < CALLS; ++c)
    qlow_twice_transposed(x, y);
  long perCall = (minorFaults() - before) / CALLS;
  long temporaryPages = (long)N * N * sizeof(float) / 4096;
  printf("buffer-cache: %ld minor faults per call, temporary of %ld pages\n",
         perCall, temporaryPages);
  if (mismatches(y) || perCall * 16 > temporaryPages) {
    printf("buffer-cache: FAILED (wrong values, or the temporary was faulted "
           "in again)\n");
    return 1;
  }

  pthread_t threads[THREADS];
  long bad[THREADS];
  for (int t = 0; t < THREADS; ++t)
    pthread_create(&threads[t], NULL, caller, &bad[t]);
  long total = 0;
  for (int t = 0; t < THREADS; ++t) {
    pthread_join(threads[t], NULL);
    total += bad[t];
  }
  printf("buffer-cache: %d threads x %d calls, %ld wrong values\n", THREADS,
         THREAD_CALLS, total);
  return total != 0;
}
