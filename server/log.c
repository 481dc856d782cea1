/* log.c: dmlogd's process-wide logger (see log.h for the line format and the threading rules).
 *
 * The state is a handful of atomics so that any thread may emit while the main thread changes
 * the level or the target on SIGHUP. A line is built in a stack buffer and handed to the kernel
 * with one write(2), which keeps concurrent lines whole.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define LOG_IDENT_MAX 32

atomic_int log_threshold = LOG_LEVEL_NOTICE;

static atomic_int log_target_now = LOG_TARGET_STDERR;
static atomic_int log_fd = 2;
static atomic_bool log_journal = false;
static atomic_bool log_stamps = false;
static bool log_syslog_open;
/* openlog(3) keeps the pointer it is given, so the ident lives here for good. */
static char log_ident[LOG_IDENT_MAX] = "dmlogd";

static const char *const log_names[] = {
	[LOG_LEVEL_ERR] = "err",	 [LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_NOTICE] = "notice", [LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* True when fd is the stream journald gave us: JOURNAL_STREAM holds "device:inode" of it. */
static bool log_fd_is_journal(int fd)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (env == NULL || sscanf(env, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(fd, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident)
{
	if (log_syslog_open) {
		closelog();
		log_syslog_open = false;
	}
	snprintf(log_ident, sizeof(log_ident), "%s", ident != NULL ? ident : "dmlogd");
	atomic_store(&log_target_now, LOG_TARGET_STDERR);
	atomic_store(&log_threshold, LOG_LEVEL_NOTICE);
	atomic_store(&log_stamps, false);
	log_set_fd(2);
}

void log_set_level(enum log_level level)
{
	if (level < LOG_LEVEL_ERR)
		level = LOG_LEVEL_ERR;
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	atomic_store(&log_threshold, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_threshold);
}

void log_set_target(enum log_target target)
{
	if (target == LOG_TARGET_SYSLOG && !log_syslog_open) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog_open = true;
	}
	atomic_store(&log_target_now, (int)target);
	if (target != LOG_TARGET_SYSLOG && log_syslog_open) {
		closelog();
		log_syslog_open = false;
	}
}

enum log_target log_get_target(void)
{
	return (enum log_target)atomic_load(&log_target_now);
}

void log_set_fd(int fd)
{
	atomic_store(&log_fd, fd);
	atomic_store(&log_journal, log_fd_is_journal(fd));
}

void log_set_timestamps(bool on)
{
	atomic_store(&log_stamps, on);
}

const char *log_level_name(enum log_level level)
{
	if (level < LOG_LEVEL_ERR || level > LOG_LEVEL_DEBUG)
		return "?";
	return log_names[level];
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (int l = LOG_LEVEL_ERR; l <= LOG_LEVEL_DEBUG; l++) {
		if (strcmp(name, log_names[l]) == 0) {
			*out = (enum log_level)l;
			return 0;
		}
	}
	return -EINVAL;
}

/* Appends the UTC time "YYYY-MM-DDTHH:MM:SS.mmmZ " at buf; returns the length written. */
static size_t log_stamp(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0)
		return 0;
	int m = snprintf(buf + n, len - n, ".%03ldZ ", ts.tv_nsec / 1000000L);
	return m > 0 && (size_t)m < len - n ? n + (size_t)m : 0;
}

/* Writes all of buf to fd, retrying on EINTR and short writes; errors drop the rest. */
static void log_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		len -= (size_t)w;
	}
}

void log_emit(enum log_level level, const char *fmt, ...)
{
	char line[LOG_LINE_MAX];
	size_t head = 0, end;
	bool to_syslog = atomic_load(&log_target_now) == LOG_TARGET_SYSLOG;
	int saved_errno = errno; /* callers may log and then still look at errno */
	va_list ap;
	int n;

	if (!to_syslog) {
		if (atomic_load(&log_journal)) {
			n = snprintf(line, sizeof(line), "<%d>%s: ", (int)level,
				     log_level_name(level));
		} else {
			if (atomic_load(&log_stamps))
				head = log_stamp(line, sizeof(line));
			n = snprintf(line + head, sizeof(line) - head, "%s: %s: ", log_ident,
				     log_level_name(level));
		}
		head += n > 0 ? (size_t)n : 0;
	}

	va_start(ap, fmt);
	n = vsnprintf(line + head, sizeof(line) - head - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	end = head + (size_t)n;
	if (end > sizeof(line) - 2) {
		end = sizeof(line) - 2;
		memcpy(line + end - 3, "...", 3);
	}
	/* Whatever was formatted in, the line stays one line. */
	for (size_t i = head; i < end; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c < 0x20 || c == 0x7f)
			line[i] = '?';
	}

	if (to_syslog) {
		line[end] = '\0';
		syslog((int)level, "%s", line + head);
	} else {
		line[end++] = '\n';
		log_write_all(atomic_load(&log_fd), line, end);
	}
	errno = saved_errno;
}

/* True for a byte that may appear in an unquoted value. */
static bool log_plain_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '=' && c != '\\';
}

struct log_value log_q(const char *value)
{
	struct log_value v;
	const unsigned char *p;
	size_t o = 0;
	bool plain;

	if (value == NULL) {
		memcpy(v.s, "-", 2);
		return v;
	}
	plain = value[0] != '\0';
	for (p = (const unsigned char *)value; plain && *p != '\0'; p++)
		plain = log_plain_byte(*p);
	if (plain && strlen(value) < sizeof(v.s)) {
		memcpy(v.s, value, strlen(value) + 1);
		return v;
	}

	/* Quoted: reserve room for the closing quote, "..." and the NUL. */
	const size_t limit = sizeof(v.s) - 5;
	v.s[o++] = '"';
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		char esc[5];
		size_t k;

		if (*p == '"' || *p == '\\')
			k = (size_t)snprintf(esc, sizeof(esc), "\\%c", *p);
		else if (*p == '\n')
			k = (size_t)snprintf(esc, sizeof(esc), "\\n");
		else if (*p == '\r')
			k = (size_t)snprintf(esc, sizeof(esc), "\\r");
		else if (*p == '\t')
			k = (size_t)snprintf(esc, sizeof(esc), "\\t");
		else if (*p < 0x20 || *p >= 0x7f)
			k = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else {
			esc[0] = (char)*p;
			k = 1;
		}
		if (o + k > limit) {
			memcpy(v.s + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(v.s + o, esc, k);
		o += k;
	}
	v.s[o++] = '"';
	v.s[o] = '\0';
	return v;
}

const char *log_short_uuid(const char *uuid)
{
	size_t n;

	if (uuid == NULL)
		return "-";
	n = strlen(uuid);
	return n > 8 ? uuid + n - 8 : uuid;
}
