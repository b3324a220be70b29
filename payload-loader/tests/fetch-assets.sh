#!/bin/sh
# Fetches the real kernels the host tests use into target/test-assets/ (git-ignored):
#   target/test-assets/grub-invaders/invaders.exec   Debian grub-invaders (ELF32, Multiboot1)
#   target/test-assets/linux/vmlinuz                 Debian Linux 6.1 cloud flavour (lz4 payload)
# The tests decompress the vmlinuz once into target/test-assets/linux/vmlinux.
# The .deb files are kept in target/debs/, which `cargo xtask run --kernel
# linux` shares: a package already there is not downloaded again.
# Needs apt-get (Debian/Ubuntu host with the bookworm archive configured) and dpkg-deb.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
dir="$root/target/test-assets"
debs="$root/target/debs"
mkdir -p "$debs" "$dir/grub-invaders" "$dir/linux"
cd "$debs"

pick() {
    apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' | cut -d' ' -f1 | sort -V | tail -n 1
}
pkg=$(pick)
if [ -z "$pkg" ] || ! apt-cache show grub-invaders >/dev/null 2>&1; then
    apt-get update
    pkg=$(pick)
fi
[ -n "$pkg" ] || { echo "no linux-image-6.1.0-*-cloud-amd64-unsigned package found" >&2; exit 1; }

x=$(mktemp -d "$dir/x.XXXXXX")
trap 'rm -rf "$x"' EXIT
for p in "$pkg" grub-invaders; do
    if ! ls "${p}"_*.deb >/dev/null 2>&1; then
        apt-get download "$p"
    fi
    dpkg-deb -x "$(ls "${p}"_*.deb | sort -V | tail -n 1)" "$x"
done
cp "$x"/boot/invaders.exec "$dir/grub-invaders/invaders.exec"
cp "$x"/boot/vmlinuz-* "$dir/linux/vmlinuz"
rm -f "$dir/linux/vmlinux"
echo "$pkg" > "$dir/linux/PACKAGE"
ls -l "$dir/grub-invaders" "$dir/linux"
