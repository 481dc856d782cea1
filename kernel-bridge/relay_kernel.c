/* relay_kernel.c: what the relay keeps from the kernel's requests besides relaying them: the
 * debug line of each request (the evidence when a real-kernel test fails), and the instances
 * dmlogd lost with this node, whose mirrors are refreshed once the kernel's reconnect loop
 * resumed them (dm_refresh.h, docs/ARCHITECTURE.md "Node leases"). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <linux/dm-log-userspace.h>

#include "dm_refresh.h"
#include "log.h"
#include "relay_impl.h"

/* The debug line of a kernel request: the evidence when a real-kernel test fails. */
void relay_debug_request(const struct ulog_codec_req *req)
{
	char regions[96] = "";
	size_t n = 0;

	switch (req->hdr.type) {
	case DM_ULOG_IS_CLEAN:
	case DM_ULOG_IN_SYNC:
	case DM_ULOG_IS_REMOTE_RECOVERING:
		snprintf(regions, sizeof(regions), " region=%" PRIu64, req->region);
		break;
	case DM_ULOG_SET_REGION_SYNC:
		snprintf(regions, sizeof(regions), " region=%" PRIu64 " in_sync=%d", req->region,
			 req->in_sync ? 1 : 0);
		break;
	default:
		for (uint32_t i = 0; i < req->nregions && n + 24 < sizeof(regions); i++)
			n += (size_t)snprintf(regions + n, sizeof(regions) - n, "%s%" PRIu64,
					      i ? "," : " regions=", req->regions[i]);
		break;
	}
	log_debug("kernel request log=%s seq=%u type=%s version=%u size=%u%s%s",
		  RELAY_UUID(req->hdr.uuid), req->hdr.seq, ulog_codec_type_name(req->hdr.type),
		  req->hdr.version, req->hdr.data_size, req->reconnect ? " reconnect" : "",
		  regions);
}

/* Remembers that dmlogd lost instance (uuid, luid). */
void relay_lost_add(struct relay *r, const struct ulog_codec_hdr *h)
{
	for (uint32_t i = 0; i < r->nlost; i++)
		if (r->lost[i].luid == h->luid && strcmp(r->lost[i].uuid, h->uuid) == 0)
			return;
	if (r->nlost == RELAY_LOST_MAX) {
		memmove(r->lost, r->lost + 1, (RELAY_LOST_MAX - 1) * sizeof(r->lost[0]));
		r->nlost--;
	}
	snprintf(r->lost[r->nlost].uuid, sizeof(r->lost[0].uuid), "%s", h->uuid);
	r->lost[r->nlost++].luid = h->luid;
}

/* A RESUME succeeded: if it revived a lost instance, refresh its mirror. */
void relay_lost_resumed(struct relay *r, const struct ulog_codec_hdr *h)
{
	for (uint32_t i = 0; i < r->nlost; i++) {
		if (r->lost[i].luid != h->luid || strcmp(r->lost[i].uuid, h->uuid) != 0)
			continue;
		r->lost[i] = r->lost[--r->nlost];
		if (!r->refresh_after_loss) {
			log_warning("a log dmlogd had lost was resumed by the kernel's reconnect: "
				    "regions it took out of sync are resynced only after the mirror's "
				    "next suspend and resume (refresh_after_loss is off) log=%s",
				    RELAY_UUID(h->uuid));
			return;
		}
		r->stats.refreshes++;
		if (dm_refresh_start(h->uuid) != 0)
			log_err("could not start the mirror refresh log=%s", RELAY_UUID(h->uuid));
		return;
	}
}
