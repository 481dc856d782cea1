/* notify.h: systemd's readiness protocol (sd_notify), written by hand.
 *
 * With Type=notify, systemd passes an AF_UNIX datagram socket in NOTIFY_SOCKET (a path, or an
 * abstract name written with a leading '@') and waits for "READY=1" before it considers dmlogd
 * started. Each call sends one datagram of newline-separated VAR=value assignments. When
 * NOTIFY_SOCKET is unset (not started by systemd) every call does nothing and returns 0.
 *
 * Stateless and thread-safe; each call opens and closes its own socket. Call from the main
 * thread in practice: ready after the listener and the Raft service are up, reloading/ready
 * around a SIGHUP reload, stopping on SIGTERM.
 */
#ifndef DMLOG_SERVER_NOTIFY_H
#define DMLOG_SERVER_NOTIFY_H

#include <stddef.h>

/* Longest datagram sent. */
#define NOTIFY_MAX 1024

/* Sends the assignments in state ("READY=1\nSTATUS=serving") as they are. 0 when sent or when
 * NOTIFY_SOCKET is unset; otherwise a negative errno with err ("notify @/run/x: cause"):
 * -EINVAL for a NOTIFY_SOCKET that is neither a path nor '@' name or too long, -EMSGSIZE for a
 * state over NOTIFY_MAX, or the errno of socket()/sendmsg(). */
int notify_send(const char *state, char *err, size_t errlen);

/* "READY=1" plus "STATUS=<status>" when status is not NULL. Newlines in status become spaces
 * (as in every status below), so it cannot add assignments. */
int notify_ready(const char *status, char *err, size_t errlen);

/* "STATUS=<status>": the one line `systemctl status` shows. */
int notify_status(const char *status, char *err, size_t errlen);

/* "RELOADING=1" with "MONOTONIC_USEC=<now>" (systemd wants the timestamp to tie the reload to
 * the READY=1 that ends it); send notify_ready() when the reload is done. */
int notify_reloading(const char *status, char *err, size_t errlen);

/* "STOPPING=1": shutdown has begun. */
int notify_stopping(const char *status, char *err, size_t errlen);

#endif
