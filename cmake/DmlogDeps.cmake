# Every external dependency, found once. deploy/install-deps.sh installs them on Debian 12.
find_package(PkgConfig REQUIRED)
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c>=1.4)
pkg_check_modules(LIBEVENT REQUIRED IMPORTED_TARGET libevent_core>=2.1 libevent_openssl>=2.1 libevent_pthreads>=2.1)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET openssl>=3.0)
pkg_check_modules(CHECK REQUIRED IMPORTED_TARGET check>=0.15)
pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv>=1.44)
# libraft 0.22 (cowsql/raft, from bookworm-backports). bookworm's own 0.15 lacks the rule against
# committing entries of earlier terms by counting replicas: refuse it outright.
pkg_check_modules(RAFT REQUIRED IMPORTED_TARGET raft>=0.22)
find_program(PROTOC_C protoc-c REQUIRED)
find_package(Threads REQUIRED)
