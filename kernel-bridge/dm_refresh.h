/* dm_refresh.h: suspend and resume the mirror that uses a given userspace log, so that its
 * kernel starts recovery again.
 *
 * Why: when dmlogd declares a node lost (its lease ran out) while the node was in fact alive
 * (cut off, or its bridge away), it drops the node's marks and turns the regions they covered
 * out of sync. The kernel comes back through its reconnect loop (CTR of the reconnect flavour,
 * RESUME), which does not reset the log's in_sync_hint: a mirror that had reached full sync
 * never asks for recovery work again, and those regions would stay out of sync (correctly
 * reported, writes to them going to the default leg only) until the next real resume. A
 * suspend and resume of the device (what `lvchange --refresh` does) is that resume: the kernel
 * resets its hint, asks for resync work and copies the regions from the default leg.
 *
 * The refresh runs on its own thread: the suspend waits for the mirror's I/O, which needs the
 * bridge's event loop to keep relaying log requests. Only the device-mapper control ioctls are
 * used (no libdevmapper). */
#ifndef DMLOG_BRIDGE_DM_REFRESH_H
#define DMLOG_BRIDGE_DM_REFRESH_H

#include <stdbool.h>
#include <stddef.h>

/* True when a target of type target_type with table parameters params is a mirror whose
 * dirty log is the userspace log `uuid` ("userspace <argc> <uuid> ..."). Pure: for tests. */
bool dm_refresh_target_uses_log(const char *target_type, const char *params, const char *uuid);

/* Finds the device-mapper device whose live table has a mirror target using the userspace log
 * `uuid`; its name goes to name. 0, -ENOENT (none), or another negative errno with err. */
int dm_refresh_find(const char *uuid, char *name, size_t namelen, char *err, size_t errlen);

/* Suspends (without freezing a filesystem on it) and resumes device `name`. A resume that
 * fails is retried (a device left suspended would hang its I/O). 0 or a negative errno with
 * err. */
int dm_refresh_device(const char *name, char *err, size_t errlen);

/* Starts a detached thread that finds the mirror using log `uuid` and refreshes it, logging
 * what it did. 0, or a negative errno when the thread could not start. */
int dm_refresh_start(const char *uuid);

#endif
