/* An LD_PRELOAD library for the tests of the free-threaded interpreter:
 * counts the process's sched_yield() calls and, at exit, writes the count
 * to the file named by $SNAKEPIT_YIELD_COUNT_FILE.
 *
 * Why: CPython 3.13t, unpatched, yields the CPU 40 times for each buffered
 * file it closes (tools/patches/cpython-3.13-critical-section-reentry.patch),
 * which makes workers start in seconds on a busy machine. Counting the calls
 * tells patched from unpatched without timing anything.
 *
 * Threading: the counter is atomic; the interpreter's threads may all yield. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_long yields;

int sched_yield(void) {
  atomic_fetch_add_explicit(&yields, 1, memory_order_relaxed);
  return (int)syscall(SYS_sched_yield);
}

__attribute__((destructor)) static void report_yields(void) {
  const char* path = getenv("SNAKEPIT_YIELD_COUNT_FILE");
  if (path == NULL || *path == '\0') return;
  FILE* out = fopen(path, "w");
  if (out == NULL) return; /* the test then fails: it finds no count */
  fprintf(out, "%ld\n", atomic_load(&yields));
  fclose(out);
}
