/* export.h: the symbol visibility macro of libdmlog's public API.
 *
 * libdmlog is built with hidden visibility by default; every public function is declared with
 * DMLOG_API so that it, and only it, is exported from the shared library.
 */
#ifndef DMLOG_EXPORT_H
#define DMLOG_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define DMLOG_API __attribute__((visibility("default")))
#else
#define DMLOG_API
#endif

#endif /* DMLOG_EXPORT_H */
