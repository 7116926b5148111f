# Per-host files, written straight into the host's overlay upper dirs before the host starts:
# the host sees them in its /etc and /home, the machine's own /etc never changes.
# shellcheck shell=bash

CCT_DEPLOY_UID=500   # EL5's first regular user

cct_prepare_host_files() {
  local state=$1 name=$2 addr=$3 d=$1/hosts/$2 dir
  for dir in etc usr var root home; do mkdir -p "$d/$dir.up" "$d/$dir.work"; done
  local etc=$d/etc.up
  mkdir -p "$etc/ssh/authorized_keys" "$etc/sudoers.d" "$etc/sysconfig"

  echo "$name" >"$etc/hostname"
  {
    printf '127.0.0.1\tlocalhost.localdomain localhost\n::1\tlocalhost6.localdomain6 localhost6\n'
    awk '{print $2 "\t" $1}' "$state/hosts.tsv"
  } >"$etc/hosts"
  printf 'NETWORKING=yes\nHOSTNAME=%s\n' "$name" >"$etc/sysconfig/network"

  # Accounts: the machine's, plus the non-root `deploy` user with passwordless sudo. "*" = no password
  # but not locked (sshd without PAM refuses key logins to accounts whose password starts with "!").
  cp -p /etc/passwd /etc/group "$etc/"
  cp -p /etc/shadow /etc/gshadow "$etc/" 2>/dev/null || true
  echo "deploy:x:$CCT_DEPLOY_UID:$CCT_DEPLOY_UID:deploy:/home/deploy:/bin/bash" >>"$etc/passwd"
  echo "deploy:x:$CCT_DEPLOY_UID:" >>"$etc/group"
  echo "deploy:*:20000:0:99999:7:::" >>"$etc/shadow"
  [ -f "$etc/gshadow" ] && echo "deploy:!::" >>"$etc/gshadow"
  echo "deploy ALL=(ALL) NOPASSWD: ALL" >"$etc/sudoers.d/deploy"
  chmod 0440 "$etc/sudoers.d/deploy"
  mkdir -p "$d/home.up/deploy"
  chown "$CCT_DEPLOY_UID:$CCT_DEPLOY_UID" "$d/home.up/deploy"

  # root's shell start-up files as CentOS 5 ships them, not the machine's: bash reads ~/.bashrc for every
  # command sshd runs, and this machine's (pyenv, cargo) costs ~0.1 s of CPU and ~100 processes each time,
  # which would swamp what the tools under test do (scripts/bench measures per-command costs).
  printf '# .bashrc\n\n# Source global definitions\nif [ -f /etc/bashrc ]; then\n\t. /etc/bashrc\nfi\n' \
    >"$d/root.up/.bashrc"
  printf '# .bash_profile\n\nif [ -f ~/.bashrc ]; then\n\t. ~/.bashrc\nfi\n\nPATH=$PATH:$HOME/bin\nexport PATH\n' \
    >"$d/root.up/.bash_profile"

  # sshd: its own ed25519 host key, the cluster client key for root and deploy, nothing from the machine.
  ssh-keygen -q -t ed25519 -N '' -C "root@$name" -f "$etc/ssh/ssh_host_ed25519_key"
  local k
  for k in ssh_host_rsa_key ssh_host_ecdsa_key ssh_host_dsa_key; do
    [ -e "/etc/ssh/$k" ] && mknod "$etc/ssh/$k" c 0 0 && mknod "$etc/ssh/$k.pub" c 0 0   # overlay whiteouts
  done
  cp "$state/id_ed25519.pub" "$etc/ssh/authorized_keys/root"
  cp "$state/id_ed25519.pub" "$etc/ssh/authorized_keys/deploy"
  chmod 644 "$etc/ssh/authorized_keys/"*
  cat >"$etc/ssh/sshd_config" <<EOF
# testcluster host $name: written by Tests/Cluster/lib/host-files.bash
Port 22
ListenAddress $addr
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
AuthorizedKeysFile /etc/ssh/authorized_keys/%u .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
X11Forwarding no
MaxStartups 200:30:400
MaxSessions 64
AcceptEnv LANG LC_*
Subsystem sftp internal-sftp
EOF
  cct_reach_host_files "$state" "$name" "$addr"
}
