# guest-core.sh: harness self-check with the kernel's own `core` dirty log (no dmlog at all).
#
# Proves that the guest, the modules, dmsetup, the loop legs and the checks of guest-lib.sh
# work before any dmlog test relies on them: create a mirror over a random leg and a zeroed
# leg, wait for the initial resync, write a pattern, verify both legs region by region,
# suspend/resume, remove.
. /host/guest-lib.sh

MB=16 RS=1024 RKB=512
NREG=$((MB * 2048 / RS))

phase setup
make_legs core $MB || fatal "loop legs"
check "legs differ before the resync" sh -c '! cmp -s /tmp/core-a.img /tmp/core-b.img'

phase create
TABLE="0 $((MB * 2048)) mirror core 1 $RS 2 $LEG_A 0 $LEG_B 0 1 handle_errors"
dms 30 create core --table "$TABLE" || fatal "dmsetup create core"
dms 10 table core

phase resync
check "initial resync reaches $NREG/$NREG" wait_sync core $NREG 60
check "legs identical after the resync" legs_compare core $NREG $RKB

phase write
dd if=/dev/urandom of=/tmp/pattern bs=64k count=24 2>/dev/null
# 1.5 MiB from 3 MiB: regions 6, 7 and 8
dd if=/tmp/pattern of=/dev/mapper/core bs=64k seek=48 oflag=direct 2>/dev/null
check "write through the mirror" test $? = 0
check "leg a holds the pattern" leg_has core a /tmp/pattern 3072
check "leg b holds the pattern" leg_has core b /tmp/pattern 3072
check "legs identical after the write" legs_compare core $NREG $RKB
check "the mirror reads the pattern back" sh -c \
	"dd if=/dev/mapper/core bs=64k skip=48 count=24 iflag=direct 2>/dev/null | cmp -s - /tmp/pattern"

phase suspend-resume
check "suspend" dms 20 suspend core
check "resume" dms 20 resume core
check "still $NREG/$NREG after resume" wait_sync core $NREG 20
check "both legs alive" test "$(health core)" = AA

phase remove
check "remove" dms 30 remove core
check "no mapped device left" test "$($DMS ls 2>&1)" = "No devices found"
finish
