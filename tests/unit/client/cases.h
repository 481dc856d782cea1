/* cases.h: one request of every type, with what the wire must carry and what must come back.
 *
 * Shared by the async and the blocking tests: cases_request(i) describes the i-th request,
 * cases_check_wire() checks the ClientMessage the fake server decoded field by field, and
 * cases_check_result() checks a result against the fake server's canned answers.
 */
#ifndef DMLOG_TESTS_CLIENT_CASES_H
#define DMLOG_TESTS_CLIENT_CASES_H

#include <dmlog/dmlog.h>

#include "fake_server.h"

#define CASES_COUNT 24
#define CASES_SHOW_LOG 20    /* the ADMIN_SHOW_LOG case */
#define CASES_PEER_ADD 21    /* the ADMIN_PEER_ADD case */
#define CASES_DIGEST 23      /* the ADMIN_DIGEST case */

/* The i-th request (0 <= i < CASES_COUNT); static storage. */
const struct dmlog_request *cases_request(size_t i);

/* Checks (with Check assertions) that cm is req sent with this id. */
void cases_check_wire(const struct dmlog_request *req, const Dmlog__ClientMessage *cm,
		      uint64_t id);

/* Checks that res is the fake server's answer to req. */
void cases_check_result(const struct dmlog_request *req, const struct dmlog_result *res);

/* Checks a Hello: protocol version 1, client_name, client_id. */
void cases_check_hello(const Dmlog__ClientMessage *cm, const char *client_name,
		       uint64_t client_id);

#endif /* DMLOG_TESTS_CLIENT_CASES_H */
