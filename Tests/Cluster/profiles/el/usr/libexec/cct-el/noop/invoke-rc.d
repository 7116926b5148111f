#!/bin/sh
# el9/el7 profiles: Debian maintainer scripts run with this first in PATH (APT DPkg::Path) under the
# yum/dnf shims, so that no Debian service is started or enabled and no Debian-only config is written.
exit 0
