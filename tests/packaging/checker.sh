#!/bin/bash
# Runs inside the nspawn container after seedboxd.service has started (After=): records what
# systemd and the daemon say into /out, then powers the container off. Every step's output is
# checked by test_systemd_boot.py on the host.
exec > /out/check.txt 2>&1
show() { systemctl show seedboxd -p ActiveState -p SubState -p Result -p StatusText -p ExecMainStatus \
    -p NRestarts -p WatchdogTimestampMonotonic; }
rpc() {
    curl -s --max-time 10 -H "Authorization: Bearer $(cat /var/lib/seedboxd/rpc.token)" \
        -d "$1" http://127.0.0.1:9180/rpc
    echo
}
echo "== started"
show
pid=$(systemctl show -p MainPID --value seedboxd)
grep -E '^(Uid|Gid|NoNewPrivs|Seccomp|CapEff|CapBnd):' /proc/"$pid"/status
echo "== first call"
rpc '{"jsonrpc":"2.0","id":1,"method":"system.version"}'
meta=$(base64 -w0 /t/seed.torrent)
rpc '{"jsonrpc":"2.0","id":2,"method":"torrent.add","params":{"metainfo":"'"$meta"'"}}'
echo "== reload"
systemctl reload seedboxd
show
echo "== stop"
systemctl stop seedboxd
show
ls -l /var/lib/seedboxd/
echo "== restart"
systemctl start seedboxd
show
rpc '{"jsonrpc":"2.0","id":3,"method":"torrent.list","params":{"fields":["id","resume","resume_saved_time"]}}'
echo "== token"
cat /var/lib/seedboxd/rpc.token; echo
echo "== journal"
journalctl -b --no-pager -o cat -u seedboxd
echo "== order"
journalctl -b --no-pager -o short-monotonic | grep -E 'JSON-RPC listening|Started seedboxd' | head -2
echo "== done"
systemctl poweroff --no-block
