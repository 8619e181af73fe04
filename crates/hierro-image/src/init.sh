#!/bin/sh
# /init of the Hierro test guest: PID 1, run by busybox sh from the initramfs.
# Kernel command line parameters (all optional):
#   hierro.ip=A.B.C.D/PREFIX  address of the first NIC
#   hierro.gw=A.B.C.D         default gateway
#   hierro.hostname=NAME      host name (default hierro-guest)
#   hierro.install=FILE       installer: write FILE, a disk image (with its
#                             partition table and boot loader) on the CD-ROM,
#                             onto the first disk, then power off
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TERM=vt100

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs tmpfs /run

# Drivers, in dependency order (the image builder writes load-order).
while read -r m; do
    insmod "/lib/modules/$m.ko" || echo "hierro-guest: insmod $m failed"
done < /lib/modules/load-order

install=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    hierro.install=*) install=${arg#*=} ;;
    esac
done
if [ -n "$install" ]; then
    # The CD-ROM shows up while sr_mod probes: allow it 5 s.
    mkdir -p /mnt/cd
    tries=0
    until mount -t iso9660 -o ro /dev/sr0 /mnt/cd 2>/dev/null || [ $tries -ge 50 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    if cat "/mnt/cd/$install" > /dev/vda && sync; then
        echo "hierro-guest: installed $install on /dev/vda"
    else
        echo "hierro-guest: installing $install on /dev/vda failed"
    fi
    echo 1 > /proc/sys/kernel/sysrq
    echo o > /proc/sysrq-trigger
    while true; do sleep 1; done
fi

ip= gw= hostname=hierro-guest
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    hierro.ip=*) ip=${arg#*=} ;;
    hierro.gw=*) gw=${arg#*=} ;;
    hierro.hostname=*) hostname=${arg#*=} ;;
    esac
done
hostname "$hostname"

# The NIC: the first interface other than lo, whatever its name. virtio_net
# probes while insmod runs, but allow it up to 2 s to show up.
ip link set lo up
nic=
tries=0
while [ -z "$nic" ] && [ $tries -lt 20 ]; do
    for path in /sys/class/net/*; do
        [ "${path##*/}" = lo ] || { nic=${path##*/}; break; }
    done
    [ -n "$nic" ] || sleep 0.1
    tries=$((tries + 1))
done
if [ -n "$nic" ]; then
    ip link set "$nic" up
    [ -z "$ip" ] || ip addr add "$ip" dev "$nic"
    [ -z "$gw" ] || ip route add default via "$gw"
fi

# The services, restarted if they ever die.
respawn() {
    while true; do
        "$@"
        echo "hierro-guest: '$*' exited with status $?, restarting"
        sleep 1
    done
}
respawn /bin/hierro-guest agent &
respawn /bin/hierro-guest counter &

# Say ready only once the counter listens (port 7777 = 0x1E61, state 0A = LISTEN),
# so that whoever waits for this line can connect at once.
tries=0
while ! grep -q ':1E61 00000000:0000 0A' /proc/net/tcp && [ $tries -lt 50 ]; do
    sleep 0.1
    tries=$((tries + 1))
done
echo "hierro-guest: ready ip=${ip:-none} hostname=$hostname nic=${nic:-none}"

# From now on only kernel errors and worse reach the console, so that they do
# not garble the shell; `dmesg` still has everything.
echo 4 > /proc/sys/kernel/printk

# A shell on the display's text console too (tty1, when the VM has a
# display), for the graphical console; tty1 becomes its controlling terminal.
if [ -c /dev/tty1 ]; then
    respawn setsid sh -c 'exec sh -i </dev/tty1 >/dev/tty1 2>&1' &
fi

# An interactive shell on the console, forever (PID 1 must never exit). As PID 1
# waiting on it, this shell also reaps orphaned processes.
export PS1='\h # '
cd /
while true; do
    setsid cttyhack sh
done
