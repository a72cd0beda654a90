/*===- examples/onnx/run_model.c - call a compiled ONNX model from C ------===*
 *
 * Links a model library written by `qlow-compile model.onnx -o DIR/`
 * (DIR/lib<name>.a and DIR/<name>.h) and runs it once through the model API:
 *
 *   clang-22 -DMODEL=<name> -I DIR examples/onnx/run_model.c DIR/lib<name>.a \
 *       -L/usr/lib/llvm-22/lib -Wl,-rpath,/usr/lib/llvm-22/lib -lomp -lm
 *   ./a.out in0.bin ... out0.bin ...
 *
 * Each file holds one tensor's raw row-major elements, inputs in the
 * model's input order, then the outputs to write.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(a) #a
#define STR(a) STR_(a)
#define API(suffix) CAT(MODEL, suffix)
#include STR(MODEL.h)

/* Bytes per element of a C type name from the header's tables. */
static size_t elementSize(const char *type) {
  if (!strcmp(type, "float"))
    return 4;
  if (strstr(type, "64"))
    return 8;
  if (strstr(type, "32"))
    return 4;
  if (strstr(type, "16"))
    return 2;
  return 1;
}

static size_t bytesOf(const char *type, int rank, const int64_t *shape) {
  size_t n = elementSize(type);
  for (int i = 0; i < rank; ++i)
    n *= (size_t)shape[i];
  return n;
}

int main(int argc, char **argv) {
  int nin = API(_num_inputs), nout = API(_num_outputs);
  if (argc != 1 + nin + nout) {
    fprintf(stderr, "usage: %s", argv[0]);
    for (int i = 0; i < nin; ++i)
      fprintf(stderr, " %s.bin", API(_input_names)[i]);
    for (int i = 0; i < nout; ++i)
      fprintf(stderr, " %s.bin", API(_output_names)[i]);
    fprintf(stderr, "\n");
    return 2;
  }
  void *inputs[API(_num_inputs)], *outputs[API(_num_outputs)];
  for (int i = 0; i < nin; ++i) {
    size_t n = bytesOf(API(_input_types)[i], API(_input_ranks)[i],
                       API(_input_shapes)[i]);
    FILE *f = fopen(argv[1 + i], "rb");
    inputs[i] = malloc(n);
    if (!f || fread(inputs[i], 1, n, f) != n) {
      fprintf(stderr, "cannot read %zu bytes of input '%s' from %s\n", n,
              API(_input_names)[i], argv[1 + i]);
      return 1;
    }
    fclose(f);
  }
  for (int i = 0; i < nout; ++i)
    outputs[i] = malloc(bytesOf(API(_output_types)[i], API(_output_ranks)[i],
                                API(_output_shapes)[i]));

  API(_model) *model = API(_create)();
  /* _run checks its arguments: a missing buffer is refused with -1. */
  void *first = outputs[0];
  outputs[0] = NULL;
  if (API(_run)(model, (const void *const *)inputs, outputs) != -1) {
    fprintf(stderr, "a null output buffer was not refused\n");
    return 1;
  }
  outputs[0] = first;
  int status = API(_run)(model, (const void *const *)inputs, outputs);
  API(_destroy)(model);
  if (status != 0)
    return 1;

  for (int i = 0; i < nout; ++i) {
    size_t n = bytesOf(API(_output_types)[i], API(_output_ranks)[i],
                       API(_output_shapes)[i]);
    FILE *f = fopen(argv[1 + nin + i], "wb");
    if (!f || fwrite(outputs[i], 1, n, f) != n)
      return 1;
    fclose(f);
    printf("%s: %zu bytes\n", API(_output_names)[i], n);
  }
  return 0;
}
