// Counts the allocations the calling thread makes, for tests that a loop allocates nothing.
#ifndef CALLOCATIONCOUNTER_H
#define CALLOCATIONCOUNTER_H

/// Allocations (malloc, calloc, realloc, aligned allocations) made by this thread so far.
long allocation_count(void);

#endif
