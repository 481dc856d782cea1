/* bench_lat.c: bench_lat, the latency agents driven by bench_rounds (see agent.h, lat.h).
 *
 * Usage: bench_lat MODE key=value...
 *   fsync dir=DIR
 *   dmlog servers=H:P[,...] certs=DIR [node=NAME] [uuid=UUID] [luid=N] [args=CTR]
 *   ctr servers=H:P[,...] certs=DIR [node=NAME] uuid=UUID args=CTR
 *   bridge path=SOCKET [uuid=UUID] [args=CTR]
 *   tls port=P certs=DIR [node=NAME] [req=BYTES] [rep=BYTES]
 *   raw port=P certs=DIR [node=NAME] [uuid=UUID]
 *   etcd port=P
 *   wake */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lat.h"

int main(int argc, char **argv)
{
	static const struct {
		const char *mode;
		int (*fn)(int, char **);
	} modes[] = {
		{"fsync", lat_fsync_main}, {"dmlog", lat_dmlog_main}, {"ctr", lat_ctr_main},
		{"bridge", lat_bridge_main}, {"tls", lat_tls_main}, {"raw", lat_raw_main},
		{"etcd", lat_etcd_main}, {"wake", lat_wake_main},
	};

	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; argc >= 2 && i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(argv[1], modes[i].mode) == 0)
			return modes[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "usage: bench_lat fsync|dmlog|ctr|bridge|tls|raw|etcd|wake key=value...\n");
	return 2;
}
