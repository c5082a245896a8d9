// OpenBLAS's CBLAS interface (Debian: libopenblas-dev, installed by scripts/ensure-deps),
// with openblas_set_num_threads and openblas_get_corename.
#include <cblas.h>
