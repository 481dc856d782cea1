/* log.h: dmlogd's logging — syslog levels, stderr (journald) or syslog, a stable key=value tail.
 *
 * One process-wide logger. Messages go to a file descriptor (stderr by default, where journald
 * picks them up) or to syslog(3). On stderr a line is "<N>level: message key=value ..." when
 * stderr is the journal (journald reads the "<N>" prefix as the priority) and
 * "ident: level: message key=value ..." otherwise, optionally preceded by a UTC timestamp.
 *
 * The level is checked before anything is formatted: the log_*() macros evaluate their
 * arguments only when the level is enabled, so a debug line with expensive arguments costs one
 * relaxed atomic load when debug is off.
 *
 * Thread safety: emitting is safe from any thread (each line is formatted into a local buffer
 * and written with one write(2), so lines from two threads never interleave). The setters are
 * meant for the main thread (start-up and SIGHUP reload); a line emitted concurrently with a
 * setter uses either the old or the new setting.
 *
 * Secrets: nothing here reads or prints key material; callers must never pass private keys,
 * passphrases or certificate contents. Values that come from the network or from users go
 * through log_q() so they cannot forge a line or a key=value pair.
 */
#ifndef DMLOG_SERVER_LOG_H
#define DMLOG_SERVER_LOG_H

#include <stdatomic.h>
#include <stdbool.h>

/* Levels are the syslog priorities (LOG_ERR .. LOG_DEBUG in <syslog.h>). */
enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

enum log_target {
	LOG_TARGET_STDERR = 0, /* the descriptor set by log_set_fd(), 2 by default */
	LOG_TARGET_SYSLOG = 1, /* syslog(3), facility LOG_DAEMON */
};

/* Longest line written, prefix included; longer messages are cut and end in "...". */
#define LOG_LINE_MAX 2048
/* Room for one value quoted by log_q(), terminating NUL included. */
#define LOG_VALUE_MAX 256

/* The current threshold; read it through log_enabled(). */
extern atomic_int log_threshold;

/* True when a message at level would be written. */
static inline bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

/* Formats and writes one message (printf format, no trailing newline needed). Prefer the
 * macros below, which skip the call and the evaluation of the arguments when the level is
 * off. Never fails visibly: a line that cannot be written is dropped. */
void log_emit(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_AT(level, ...)                                                                      \
	do {                                                                                    \
		if (log_enabled(level))                                                         \
			log_emit((level), __VA_ARGS__);                                         \
	} while (0)
#define log_err(...) LOG_AT(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warning(...) LOG_AT(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) LOG_AT(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* Resets the logger: ident (copied, at most 31 bytes kept; NULL means "dmlogd") on fd 2,
 * target stderr, level notice, no timestamps. Detects whether fd 2 is the journal
 * (JOURNAL_STREAM). Closes syslog if it was open. */
void log_init(const char *ident);

/* Sets the threshold: messages above it (less important) are skipped. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Chooses where lines go. Switching to syslog opens it (openlog with the ident, LOG_PID,
 * LOG_DAEMON); switching away closes it. */
void log_set_target(enum log_target target);
enum log_target log_get_target(void);

/* Sets the descriptor the stderr target writes to (not owned, never closed) and re-detects
 * whether it is the journal. Tests point it at a pipe or a temporary file. */
void log_set_fd(int fd);

/* Prefixes plain (non-journal) stderr lines with a UTC timestamp "2024-05-01T12:00:00.123Z ".
 * The journal and syslog stamp lines themselves, so they never get one. */
void log_set_timestamps(bool on);

/* "err", "warning", "notice", "info", "debug"; "?" for anything else. */
const char *log_level_name(enum log_level level);

/* Parses a level name as log_level_name() spells it. 0, or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);

/* One value formatted for a key=value tail: see log_q(). */
struct log_value {
	char s[LOG_VALUE_MAX];
};

/* Quotes a value for the key=value tail so that the tail stays machine-readable: returned as
 * is when it is non-empty and made only of printable ASCII other than space, '"', '=' and '\';
 * otherwise in double quotes with '"' and '\' backslash-escaped, \n \r \t spelled so, other
 * bytes outside printable ASCII as \xNN. NULL becomes "-". Too long a value is cut and ends in
 * "...". Use the member of the returned temporary within the same full expression:
 *     log_info("session opened node=%s", log_q(name).s);
 */
struct log_value log_q(const char *value);

/* The last 8 characters of a UUID (the whole string if shorter), as cmirrord and the kernel
 * print them. Returns a pointer into uuid; NULL becomes "-". */
const char *log_short_uuid(const char *uuid);

#endif
