/*===- npy_io.h - read and write .npy files from C ------------------------===*
 *
 * For the C harnesses that run qlow-compile's objects off the host (under
 * qemu-aarch64): little-endian, C-order .npy arrays, version 1.0 or 2.0.
 * Plain C, no dependencies beyond libc, so that it builds for any target.
 *
 *===----------------------------------------------------------------------===*/

#ifndef QLOW_TEST_NPY_IO_H
#define QLOW_TEST_NPY_IO_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the data of the .npy file `path`; `expected_bytes` must be its size.
 * Exits with a message on any error. */
static void *npy_load(const char *path, size_t expected_bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "npy_io: cannot open %s\n", path);
    exit(2);
  }
  unsigned char magic[10];
  if (fread(magic, 1, 8, f) != 8 || memcmp(magic, "\x93NUMPY", 6) != 0) {
    fprintf(stderr, "npy_io: %s is not a .npy file\n", path);
    exit(2);
  }
  size_t header;
  if (magic[6] == 1) {
    unsigned char len[2];
    if (fread(len, 1, 2, f) != 2)
      exit(2);
    header = len[0] | (size_t)len[1] << 8;
  } else {
    unsigned char len[4];
    if (fread(len, 1, 4, f) != 4)
      exit(2);
    header = len[0] | (size_t)len[1] << 8 | (size_t)len[2] << 16 |
             (size_t)len[3] << 24;
  }
  fseek(f, (long)header, SEEK_CUR);
  void *data = malloc(expected_bytes ? expected_bytes : 1);
  size_t got = fread(data, 1, expected_bytes, f);
  if (got != expected_bytes || fgetc(f) != EOF) {
    fprintf(stderr, "npy_io: %s does not hold %zu bytes of data\n", path,
            expected_bytes);
    exit(2);
  }
  fclose(f);
  return data;
}

/* Writes `data` as a .npy array of numpy type `descr` ("<i4", "|u1", ...)
 * and shape `dims[0..rank)`. */
static void npy_save(const char *path, const void *data, const char *descr,
                     const int64_t *dims, int rank, size_t bytes) {
  char dict[256];
  int n = snprintf(dict, sizeof dict,
                   "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < rank; ++i)
    n += snprintf(dict + n, sizeof dict - n, "%lld%s", (long long)dims[i],
                  rank == 1 ? "," : (i + 1 < rank ? ", " : ""));
  n += snprintf(dict + n, sizeof dict - n, "), }");
  /* Pad with spaces to a multiple of 64 bytes, newline-terminated. */
  int total = 10 + n + 1;
  int pad = (64 - total % 64) % 64;
  FILE *f = fopen(path, "wb");
  if (!f) {
    fprintf(stderr, "npy_io: cannot write %s\n", path);
    exit(2);
  }
  unsigned short len = (unsigned short)(n + pad + 1);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc(len & 0xff, f);
  fputc(len >> 8, f);
  fwrite(dict, 1, (size_t)n, f);
  for (int i = 0; i < pad; ++i)
    fputc(' ', f);
  fputc('\n', f);
  if (fwrite(data, 1, bytes, f) != bytes) {
    fprintf(stderr, "npy_io: short write to %s\n", path);
    exit(2);
  }
  fclose(f);
}

#endif /* QLOW_TEST_NPY_IO_H */
