/* sync.h: what the typed blocking calls (sync_ops.c) need from the blocking handle (sync.c). */
#ifndef DMLOG_CLIENT_SYNC_H
#define DMLOG_CLIENT_SYNC_H

#include <dmlog/dmlog.h>

/* Sets the handle's errmsg, printf-style. */
void sync_set_error(struct dmlog *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* DMLOG_CLIENT_SYNC_H */
