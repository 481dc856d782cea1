/* dm_refresh.c: find the mirror using a userspace log and suspend/resume it (dm_refresh.h),
 * through /dev/mapper/control. */
#include "dm_refresh.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/dm-ioctl.h>

#include "log.h"

#define DM_CONTROL "/dev/mapper/control"
#define DM_BUF_START 16384
#define DM_BUF_MAX (16u << 20)
#define RESUME_TRIES 30

bool dm_refresh_target_uses_log(const char *target_type, const char *params, const char *uuid)
{
	const char *p = params;
	size_t ul = strlen(uuid);

	if (strcmp(target_type, "mirror") != 0 || ul == 0)
		return false;
	/* mirror <log type> <#log args> <log args...> ...: for us "userspace <n> <uuid> ..." */
	if (strncmp(p, "userspace ", 10) != 0)
		return false;
	p += 10;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p != ' ')
		return false;
	p++;
	return strncmp(p, uuid, ul) == 0 && (p[ul] == ' ' || p[ul] == '\0');
}

/* One ioctl with a result buffer that grows while the kernel says it was too small. On
 * success *out is the buffer (the caller frees it). */
static int dm_call(int fd, unsigned long cmd, const char *name, uint32_t flags,
		   struct dm_ioctl **out, char *err, size_t errlen)
{
	size_t size = DM_BUF_START;

	for (;;) {
		struct dm_ioctl *io = calloc(1, size);

		if (!io) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		io->version[0] = DM_VERSION_MAJOR;
		io->version[1] = DM_VERSION_MINOR;
		io->version[2] = DM_VERSION_PATCHLEVEL;
		io->data_size = (uint32_t)size;
		io->data_start = sizeof(*io);
		io->flags = flags;
		if (name)
			snprintf(io->name, sizeof(io->name), "%s", name);
		if (ioctl(fd, cmd, io) < 0) {
			int e = errno;

			snprintf(err, errlen, "device-mapper ioctl on %s: %s", name ? name : "(all)",
				 strerror(e));
			free(io);
			return -e;
		}
		if (!(io->flags & DM_BUFFER_FULL_FLAG)) {
			*out = io;
			return 0;
		}
		free(io);
		if (size >= DM_BUF_MAX) {
			snprintf(err, errlen, "device-mapper answer larger than %u bytes", DM_BUF_MAX);
			return -E2BIG;
		}
		size *= 4;
	}
}

/* 1 when device `name`'s live table has a mirror using log uuid, 0 when not, or -errno. */
static int dm_device_uses_log(int fd, const char *name, const char *uuid, char *err,
			      size_t errlen)
{
	struct dm_ioctl *io = NULL;
	int rc = dm_call(fd, DM_TABLE_STATUS, name, DM_STATUS_TABLE_FLAG, &io, err, errlen);
	const char *data, *end;
	size_t off = 0;

	if (rc == -ENXIO || rc == -ENODEV)
		return 0; /* removed meanwhile */
	if (rc)
		return rc;
	data = (const char *)io + io->data_start;
	end = (const char *)io + io->data_size;
	rc = 0;
	for (uint32_t i = 0; i < io->target_count && rc == 0; i++) {
		const struct dm_target_spec *sp = (const void *)(data + off);
		const char *params = (const char *)(sp + 1);

		if ((const char *)(sp + 1) > end || memchr(params, '\0', (size_t)(end - params)) == NULL)
			break;
		char type[DM_MAX_TYPE_NAME + 1];

		memcpy(type, sp->target_type, DM_MAX_TYPE_NAME);
		type[DM_MAX_TYPE_NAME] = '\0';
		rc = dm_refresh_target_uses_log(type, params, uuid) ? 1 : 0;
		if (sp->next <= off)
			break;
		off = sp->next;
	}
	free(io);
	return rc;
}

/* The control device, or -errno with err. */
static int dm_open_control(char *err, size_t errlen)
{
	int fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fd = -errno;
		snprintf(err, errlen, "%s: %s", DM_CONTROL, strerror(-fd));
	}
	return fd;
}

int dm_refresh_find(const char *uuid, char *name, size_t namelen, char *err, size_t errlen)
{
	struct dm_ioctl *io = NULL;
	int fd = dm_open_control(err, errlen);
	int rc;

	if (fd < 0)
		return fd;
	rc = dm_call(fd, DM_LIST_DEVICES, NULL, 0, &io, err, errlen);
	if (rc == 0) {
		const char *data = (const char *)io + io->data_start;
		const char *end = (const char *)io + io->data_size;
		const struct dm_name_list *nl = (const void *)data;

		rc = -ENOENT;
		snprintf(err, errlen, "no device-mapper mirror uses this log");
		while ((const char *)nl->name < end && nl->dev != 0 &&
		       memchr(nl->name, '\0', (size_t)(end - nl->name)) != NULL) {
			int u = dm_device_uses_log(fd, nl->name, uuid, err, errlen);

			if (u < 0) {
				rc = u;
				break;
			}
			if (u == 1) {
				snprintf(name, namelen, "%s", nl->name);
				rc = 0;
				break;
			}
			if (nl->next == 0)
				break;
			nl = (const void *)((const char *)nl + nl->next);
		}
		free(io);
	}
	close(fd);
	return rc;
}

int dm_refresh_device(const char *name, char *err, size_t errlen)
{
	struct dm_ioctl *io = NULL;
	int fd = dm_open_control(err, errlen);
	int rc;

	if (fd < 0)
		return fd;
	rc = dm_call(fd, DM_DEV_SUSPEND, name, DM_SUSPEND_FLAG | DM_SKIP_LOCKFS_FLAG, &io, err,
		     errlen);
	free(io);
	io = NULL;
	if (rc == 0) {
		/* Suspended: it must come back, whatever it takes. */
		for (int i = 0; i < RESUME_TRIES; i++) {
			rc = dm_call(fd, DM_DEV_SUSPEND, name, 0, &io, err, errlen);
			free(io);
			io = NULL;
			if (rc == 0 || rc == -ENXIO || rc == -ENODEV)
				break;
			log_warning("resuming %s failed (%s): trying again", log_q(name).s, err);
			nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
		}
	}
	close(fd);
	return rc;
}

static void *dm_refresh_thread(void *arg)
{
	char *uuid = arg, name[DM_NAME_LEN], err[256];
	int rc = dm_refresh_find(uuid, name, sizeof(name), err, sizeof(err));

	if (rc == -ENOENT) {
		log_notice("no mirror to refresh: %s log=%s", err, log_q(log_short_uuid(uuid)).s);
	} else if (rc) {
		log_warning("mirror not refreshed, it may keep regions out of sync until its next "
			    "resume: %s log=%s",
			    err, log_q(log_short_uuid(uuid)).s);
	} else {
		log_notice("refreshing mirror %s (suspend and resume) so that it resyncs the regions "
			   "dmlogd took out of sync while this node was lost log=%s",
			   log_q(name).s, log_q(log_short_uuid(uuid)).s);
		rc = dm_refresh_device(name, err, sizeof(err));
		if (rc)
			log_err("mirror refresh failed: %s device=%s log=%s", err, log_q(name).s,
				log_q(log_short_uuid(uuid)).s);
		else
			log_notice("mirror refreshed device=%s log=%s", log_q(name).s,
				   log_q(log_short_uuid(uuid)).s);
	}
	free(uuid);
	return NULL;
}

int dm_refresh_start(const char *uuid)
{
	pthread_attr_t attr;
	pthread_t t;
	char *copy = strdup(uuid);
	int rc;

	if (!copy)
		return -ENOMEM;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&t, &attr, dm_refresh_thread, copy);
	pthread_attr_destroy(&attr);
	if (rc) {
		free(copy);
		return -rc;
	}
	return 0;
}
