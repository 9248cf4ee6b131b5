// The system zlib (zlib1g-dev), for the package's deflate. `deflateInit2` is a macro in zlib.h,
// so it is wrapped as an inline function Swift can call.
#include <zlib.h>

static inline int infc_deflate_init(z_stream *stream, int level) {
    // Raw deflate (no zlib header: ZIP entries carry bare deflate data), a 32 KiB window, zlib's
    // default memory level and strategy.
    return deflateInit2(stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
}
