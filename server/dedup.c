/* dedup.c: the exactly-once result table (see dedup.h). */
#include "dedup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapbuf.h"

#define DEDUP_NODE_MAX 64

struct dedup_slot {
	uint64_t request_id; /* 0: empty */
	int32_t error;
	bool flag;
	uint64_t value;
	char *text;          /* NULL when empty */
};

struct dedup_client {
	char node[DEDUP_NODE_MAX + 1];
	uint64_t client_id;
	uint64_t last_index;
	struct dedup_slot *slots; /* window entries */
};

struct dedup {
	uint32_t window;
	uint32_t n;
	struct dedup_client clients[DEDUP_CLIENTS_MAX];
};

struct dedup *dedup_new(uint32_t window)
{
	struct dedup *d;

	if (window == 0)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (d)
		d->window = window;
	return d;
}

static void client_clear(struct dedup *d, struct dedup_client *c)
{
	for (uint32_t i = 0; c->slots && i < d->window; i++)
		free(c->slots[i].text);
	free(c->slots);
	memset(c, 0, sizeof(*c));
}

void dedup_free(struct dedup *d)
{
	if (!d)
		return;
	for (uint32_t i = 0; i < d->n; i++)
		client_clear(d, &d->clients[i]);
	free(d);
}

static int client_index(const struct dedup *d, const char *node, uint64_t client_id)
{
	for (uint32_t i = 0; i < d->n; i++) {
		const struct dedup_client *c = &d->clients[i];

		if (c->client_id == client_id && strcmp(c->node, node) == 0)
			return (int)i;
	}
	return -1;
}

/* The client least recently applied (ties: lowest array position). */
static uint32_t client_oldest(const struct dedup *d)
{
	uint32_t best = 0;

	for (uint32_t i = 1; i < d->n; i++)
		if (d->clients[i].last_index < d->clients[best].last_index)
			best = i;
	return best;
}

static struct dedup_client *client_add(struct dedup *d, const char *node, uint64_t client_id)
{
	struct dedup_client *c;
	struct dedup_slot *slots = calloc(d->window, sizeof(*slots));

	if (!slots)
		return NULL;
	if (d->n == DEDUP_CLIENTS_MAX) {
		uint32_t old = client_oldest(d);

		client_clear(d, &d->clients[old]);
		d->clients[old] = d->clients[d->n - 1];
		memset(&d->clients[d->n - 1], 0, sizeof(d->clients[0]));
		d->n--;
	}
	c = &d->clients[d->n++];
	snprintf(c->node, sizeof(c->node), "%s", node);
	c->client_id = client_id;
	c->slots = slots;
	return c;
}

int dedup_put(struct dedup *d, const char *node, uint64_t client_id, uint64_t request_id,
	      uint64_t index, const struct dedup_result *res)
{
	struct dedup_client *c;
	struct dedup_slot *s;
	char *text = NULL;
	int i;

	if (request_id == 0 || strlen(node) > DEDUP_NODE_MAX)
		return -EINVAL;
	if (res->text[0]) {
		text = strdup(res->text);
		if (!text)
			return -ENOMEM;
	}
	i = client_index(d, node, client_id);
	c = i >= 0 ? &d->clients[i] : client_add(d, node, client_id);
	if (!c) {
		free(text);
		return -ENOMEM;
	}
	s = &c->slots[request_id % d->window];
	free(s->text);
	s->request_id = request_id;
	s->error = res->error;
	s->flag = res->flag;
	s->value = res->value;
	s->text = text;
	c->last_index = index;
	return 0;
}

bool dedup_get(const struct dedup *d, const char *node, uint64_t client_id, uint64_t request_id,
	       struct dedup_result *res)
{
	int i = client_index(d, node, client_id);
	const struct dedup_client *c;
	const struct dedup_slot *s;

	if (i < 0 || request_id == 0)
		return false;
	c = &d->clients[i];
	s = &c->slots[request_id % d->window];
	if (s->request_id != request_id)
		return false;
	res->error = s->error;
	res->flag = s->flag;
	res->value = s->value;
	snprintf(res->text, sizeof(res->text), "%s", s->text ? s->text : "");
	return true;
}

void dedup_save(const struct dedup *d, struct snapbuf *out)
{
	snapbuf_u32(out, d->window);
	snapbuf_u32(out, d->n);
	for (uint32_t i = 0; i < d->n; i++) {
		const struct dedup_client *c = &d->clients[i];
		uint32_t used = 0;

		for (uint32_t k = 0; k < d->window; k++)
			used += c->slots[k].request_id != 0;
		snapbuf_str(out, c->node);
		snapbuf_u64(out, c->client_id);
		snapbuf_u64(out, c->last_index);
		snapbuf_u32(out, used);
		for (uint32_t k = 0; k < d->window; k++) {
			const struct dedup_slot *s = &c->slots[k];

			if (!s->request_id)
				continue;
			snapbuf_u64(out, s->request_id);
			snapbuf_u32(out, (uint32_t)s->error);
			snapbuf_u8(out, s->flag);
			snapbuf_u64(out, s->value);
			snapbuf_str(out, s->text ? s->text : "");
		}
	}
}

struct dedup *dedup_load(struct snapread *r)
{
	uint32_t window = snapread_u32(r);
	uint32_t n = snapread_u32(r);
	struct dedup *d;

	if (r->bad || window == 0 || window > (1u << 20) || n > DEDUP_CLIENTS_MAX) {
		r->bad = true;
		return NULL;
	}
	d = dedup_new(window);
	if (!d)
		return NULL;
	for (uint32_t i = 0; i < n && !r->bad; i++) {
		char node[DEDUP_NODE_MAX + 1];
		uint64_t client_id, last_index;
		uint32_t used;
		struct dedup_client *c;

		snapread_str(r, node, DEDUP_NODE_MAX);
		client_id = snapread_u64(r);
		last_index = snapread_u64(r);
		used = snapread_u32(r);
		if (r->bad || used > window || client_index(d, node, client_id) >= 0) {
			r->bad = true;
			break;
		}
		c = client_add(d, node, client_id);
		if (!c)
			goto nomem;
		c->last_index = last_index;
		for (uint32_t k = 0; k < used && !r->bad; k++) {
			struct dedup_result res;
			uint64_t id = snapread_u64(r);

			res.error = (int32_t)snapread_u32(r);
			res.flag = snapread_u8(r) != 0;
			res.value = snapread_u64(r);
			snapread_str(r, res.text, DEDUP_TEXT_MAX - 1);
			if (r->bad || id == 0 || c->slots[id % window].request_id) {
				r->bad = true;
				break;
			}
			if (dedup_put(d, node, client_id, id, last_index, &res))
				goto nomem;
		}
	}
	if (r->bad) {
		dedup_free(d);
		return NULL;
	}
	return d;
nomem:
	dedup_free(d);
	return NULL;
}
