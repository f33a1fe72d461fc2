/*
 * A stand-in for Windows' bcryptprimitives.dll, for running Rust programs under Wine < 9.
 *
 * Since Rust 1.78 the Windows standard library imports ProcessPrng from bcryptprimitives.dll
 * (it seeds HashMap keys). Wine 8 (Debian 12's) has no such DLL, so every Rust .exe fails to
 * start there with "Library bcryptprimitives.dll ... not found" (status c0000135). ci/matrix.sh
 * builds this file with MinGW and copies it into its throw-away WINEPREFIX only when that Wine
 * lacks the DLL. It is never shipped.
 *
 *     x86_64-w64-mingw32-gcc -O2 -shared -o bcryptprimitives.dll wine-bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

/* RtlGenRandom: exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
