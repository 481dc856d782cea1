/* ctr.h: parsing of the CTR argument string "<len> <type> <type args...>" (see engine.h).
 *
 * Pure parsing: the string is split on single spaces (an empty word, from a leading, trailing
 * or doubled space, is an error, as the kernel never produces one), every number is plain
 * decimal, and the result is checked against the engine's bounds. Also the type and status
 * texts that depend only on parsed arguments.
 */
#ifndef DMLOG_CTR_H
#define DMLOG_CTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

enum ctr_type {
	CTR_CLUSTERED_CORE = 0,
	CTR_CLUSTERED_DISK = 1,
	CTR_CORE = 2,
	CTR_DISK = 3,
};
#define CTR_TYPE_COUNT 4

enum ctr_mode {
	CTR_MODE_DEFAULT = 0, /* neither sync nor nosync: resync what the log says */
	CTR_MODE_SYNC = 1,    /* `sync`: resync everything */
	CTR_MODE_NOSYNC = 2,  /* `nosync`: assume everything in sync */
};
#define CTR_MODE_COUNT 3

struct ctr_args {
	uint64_t len;         /* target length, sectors */
	enum ctr_type type;
	char dev[ENGINE_DEV_MAX + 1]; /* disk types; "" otherwise */
	uint64_t region_size; /* sectors */
	enum ctr_mode mode;
	bool block_on_error;  /* clustered types only */
	uint64_t region_count; /* ceil(len / region_size) */
};

/* Parses args (len bytes, need not be NUL-terminated). 0, or -EINVAL with the reason in errmsg. */
int ctr_parse(const char *args, size_t len, struct ctr_args *out, char *errmsg, size_t errlen);

/* "clustered-core", "clustered-disk", "core", "disk". */
const char *ctr_type_name(enum ctr_type type);

/* True for the types with a log device (clustered-disk, disk). */
bool ctr_type_is_disk(enum ctr_type type);

/* STATUS_INFO text of a log of this type and device, into buf (size >= ENGINE_TEXT_MAX). */
void ctr_status_info(enum ctr_type type, const char *dev, char *buf, size_t size);

/* STATUS_TABLE text (see engine.h), into buf (size >= ENGINE_TEXT_MAX). */
void ctr_status_table(enum ctr_type type, const char *dev, uint64_t region_size,
		      enum ctr_mode mode, bool block_on_error, char *buf, size_t size);

#endif /* DMLOG_CTR_H */
