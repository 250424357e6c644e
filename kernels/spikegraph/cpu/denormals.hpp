#pragma once
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>
#define SPIKEGRAPH_X86_MXCSR 1
#endif

namespace spikegraph::cpu_backend {

// Flushes denormal floats to zero on this thread while alive (FTZ and DAZ on
// x86, FZ on AArch64), restoring the previous mode after. Decaying traces
// otherwise spend most of their life as denormals, which are many times slower.
class FlushDenormalsGuard {
public:
    FlushDenormalsGuard() {
#if defined(SPIKEGRAPH_X86_MXCSR)
        saved_ = _mm_getcsr();
        _mm_setcsr(saved_ | 0x8040u);  // FTZ (bit 15) | DAZ (bit 6)
#elif defined(__aarch64__)
        unsigned long fpcr;
        __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
        saved_ = fpcr;
        fpcr |= (1ul << 24);
        __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#endif
    }
    ~FlushDenormalsGuard() {
#if defined(SPIKEGRAPH_X86_MXCSR)
        _mm_setcsr(static_cast<unsigned>(saved_));
#elif defined(__aarch64__)
        __asm__ volatile("msr fpcr, %0" : : "r"(saved_));
#endif
    }
    FlushDenormalsGuard(const FlushDenormalsGuard&) = delete;
    FlushDenormalsGuard& operator=(const FlushDenormalsGuard&) = delete;

private:
    unsigned long saved_ = 0;
};

}  // namespace spikegraph::cpu_backend
