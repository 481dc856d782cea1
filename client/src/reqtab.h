/* reqtab.h: a handle's pending requests, found by id and walked in id order.
 *
 * Requests are added with increasing ids, so the insertion list is the id order in which they
 * are (re)sent after a reconnect. Lookup by id is a chained hash table sized once for the
 * handle's max_in_flight. The table does not own the requests.
 */
#ifndef DMLOG_CLIENT_REQTAB_H
#define DMLOG_CLIENT_REQTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <dmlog/async.h>

struct dmlog_async;
struct event;

/* One accepted request, alive until its callback has been called. */
struct req {
	uint64_t id;
	enum dmlog_op op;
	dmlog_async_cb *cb;
	void *arg;
	uint8_t *frame;            /* the whole frame (header + ClientMessage), kept for resends */
	size_t frame_len;
	struct event *deadline;    /* NULL without a deadline */
	struct dmlog_async *ac;
	unsigned redirects;        /* not_leader answers followed for this request */
	uint64_t failures_before;  /* the handle's failure count when it was submitted */
	bool sent;                 /* written on the current connection */
	TAILQ_ENTRY(req) order;
	struct req *hash_next;
};

TAILQ_HEAD(req_list, req);

struct reqtab {
	struct req **buckets;
	size_t mask;
	size_t count;
	struct req_list list;
};

/* Sizes the table for about `expected` entries. Returns 0 or -ENOMEM. */
int reqtab_init(struct reqtab *t, size_t expected);

/* Releases the table itself (not the requests). */
void reqtab_free(struct reqtab *t);

/* Appends r; its id must be larger than every id in the table. */
void reqtab_add(struct reqtab *t, struct req *r);

/* The request with this id, or NULL. */
struct req *reqtab_find(const struct reqtab *t, uint64_t id);

/* Removes r, which must be in the table. */
void reqtab_remove(struct reqtab *t, struct req *r);

/* The pending request with the smallest id, or NULL. */
struct req *reqtab_first(const struct reqtab *t);

#endif /* DMLOG_CLIENT_REQTAB_H */
