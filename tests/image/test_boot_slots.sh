#!/usr/bin/env bash
# Unit test of image-build/.../update/boot-slots (RAUC's custom boot-loader backend over
# systemd-boot boot counting) against a scratch ESP folder: which entry systemd-boot would boot
# as tries run out, what RAUC's install sequence leaves behind, and the re-arming "good".
set -euo pipefail
slots=${1:?usage: test_boot_slots.sh PATH-TO-boot-slots}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SAFFRON_ESP=$work/esp SAFFRON_BOOT_CMDLINE=$work/cmdline SAFFRON_PROC_CMDLINE=$work/proc-cmdline
echo "ro console=ttyS0 rd.shell=0" >"$SAFFRON_BOOT_CMDLINE"
mkdir -p "$SAFFRON_ESP/EFI/saffron"
fails=0
check() {  # check DESCRIPTION EXPECTED ACTUAL
    if [[ "$2" == "$3" ]]; then echo "ok   $1"; else echo "FAIL $1: expected '$2', got '$3'"; fails=$((fails + 1)); fi
}
entries() { (cd "$SAFFRON_ESP/loader/entries" && ls | sort | paste -sd' '); }
# What systemd-boot does before booting an entry with a counter: +LEFT[-DONE] -> +LEFT-1-DONE+1.
boot_try() {
    local f
    f=$(cd "$SAFFRON_ESP/loader/entries" && ls | grep -E "^saffron-[0-9]+-$1\+")
    [[ "$f" =~ ^(saffron-[0-9]+-[ab])\+([0-9]+)(-([0-9]+))?\.conf$ ]]
    local left=${BASH_REMATCH[2]} done=${BASH_REMATCH[4]:-0}
    ((left > 0)) && mv "$SAFFRON_ESP/loader/entries/$f" \
        "$SAFFRON_ESP/loader/entries/${BASH_REMATCH[1]}+$((left - 1))-$((done + 1)).conf"
}

# A fresh disk: slot A is primary (assemble-disk.sh does exactly this), B has no entry.
echo 1.0 >"$SAFFRON_ESP/EFI/saffron/slot-a.version"
"$slots" set-primary A
check "fresh disk: one entry" "saffron-1-a+3.conf" "$(entries)"
check "fresh disk: A primary" A "$("$slots" get-primary)"
check "fresh disk: B bad (no entry)" bad "$("$slots" get-state B)"
check "entry boots slot A's kernel and root" \
    "title Saffron 1.0 (slot A)|version 1.0|efi /EFI/saffron/slot-a.efi|options root=PARTLABEL=saffron-root-a rauc.slot=A ro console=ttyS0 rd.shell=0" \
    "$(paste -sd'|' "$SAFFRON_ESP/loader/entries/saffron-1-a+3.conf")"
echo "root=PARTLABEL=saffron-root-a rauc.slot=A ro" >"$SAFFRON_PROC_CMDLINE"
check "get-current from the kernel command line" A "$("$slots" get-current)"

# Boot A: the loader counts a try, the boot check marks it good, which re-arms the counter.
boot_try a
check "a try counted" "saffron-1-a+2-1.conf" "$(entries)"
"$slots" set-state A good
check "good re-arms" "saffron-1-a+3.conf" "$(entries)"

# RAUC installs into B: pre-install marks it bad (no entry yet: a no-op), then set-primary B.
"$slots" set-state B bad
echo 2.0 >"$SAFFRON_ESP/EFI/saffron/slot-b.version"
"$slots" set-primary B
check "after install: B newer generation, counting" "saffron-1-a+3.conf saffron-2-b+3.conf" "$(entries)"
check "after install: B primary" B "$("$slots" get-primary)"

# B fails three times: its entry runs out of tries, and A (still +3) is what boots.
for i in 1 2; do boot_try b; check "B failed try $i: B still primary" B "$("$slots" get-primary)"; done
boot_try b
check "B out of tries" "saffron-1-a+3.conf saffron-2-b+0-3.conf" "$(entries)"
check "fallback: A primary" A "$("$slots" get-primary)"
check "B bad" bad "$("$slots" get-state B)"
check "A good" good "$("$slots" get-state A)"

# A reinstall into B starts over; marking bad before writing hides the old, failed entry.
"$slots" set-state B bad
"$slots" set-primary B
check "reinstall: B primary again with fresh tries" "saffron-1-a+3.conf saffron-3-b+3.conf" "$(entries)"
# Installing into A later (B running) makes A newest; marking B bad puts it behind A too.
"$slots" set-state A bad
check "A being written: B primary" B "$("$slots" get-primary)"
"$slots" set-primary A
check "A written: A primary" A "$("$slots" get-primary)"
check "generations grow" "saffron-3-b+3.conf saffron-4-a+3.conf" "$(entries)"
"$slots" set-state A bad
"$slots" set-state B bad
check "both bad: the newest still boots (systemd-boot sorts, never refuses)" A "$("$slots" get-primary)"
if "$slots" set-state C good 2>/dev/null; then check "unknown slot refused" refused accepted; else check "unknown slot refused" x x; fi
((fails == 0)) && echo "all passed" || { echo "$fails failed"; exit 1; }
