/// The POSIX-sh (and PHP/Perl one-liner) probes `clusterctl verify` runs on hosts.
///
/// Targets promise only POSIX sh, so a TCP probe tries the clients an EL host is likely to have, in order:
/// php (every web host has it once applied), perl (in every EL base install), nc. Each probe prints a
/// line-oriented report that `ProbeOutput` parses; values only ever reach the shell through `ShellQuote`.
/// Remote PHP stays PHP 5.1 compatible (EL5): `array()`, no closures, no short ternary.
enum RemoteProbes {
    /// Seconds a TCP connect may take before the target counts as unreachable (a DROP never answers).
    static let connectTimeout = 3

    /// Connects to each `ip:port` in turn and sends one memcached command (`stats` or `version`), all targets
    /// from one client process (a PHP start-up costs more than a connect: verify runs this on every host).
    /// Per target prints `BEGIN ip port`, the server's lines as `R line`, then `OK`, `FAIL reason` or
    /// `NOCLIENT`.
    static func memcachedProbe(targets: [(ip: String, port: Int)], command: String) -> String {
        let t = connectTimeout
        // argv: the command, then ip port pairs.
        let php = """
            for($i=2;$i+1<count($argv);$i+=2){ echo "BEGIN ".$argv[$i]." ".$argv[$i+1]."\\n"; \
            $s=@fsockopen($argv[$i],(int)$argv[$i+1],$en,$es,\(t)); if(!$s){echo "FAIL ".($es==""?"no answer":$es)."\\n"; continue;} \
            stream_set_timeout($s,\(t)); fwrite($s,$argv[1]."\\r\\n"); \
            while(($l=fgets($s))!==false){$l=rtrim($l); echo "R ".$l."\\n"; if($l=="END"||strpos($l,"VERSION")===0||strpos($l,"ERROR")===0){break;}} \
            fclose($s); echo "OK\\n"; }
            """
        // A timeout ends only its own target (alarm inside eval), as PHP's does.
        let perl = """
            use IO::Socket::INET; my $c=shift @ARGV; while(@ARGV>=2){ my ($ip,$port)=splice(@ARGV,0,2); print "BEGIN $ip $port\\n"; \
            my $ok=eval { local $SIG{ALRM}=sub{die "timeout\\n"}; alarm(\(t + 2)); \
            my $s=IO::Socket::INET->new(PeerAddr=>$ip,PeerPort=>$port,Proto=>"tcp",Timeout=>\(t)) \
            or do { my $e=$@; $e=~s/^IO::Socket::INET: //; $e=~s/\\s+$//; alarm 0; print "FAIL ".($e eq "" ? "no answer" : $e)."\\n"; return 0 }; \
            print $s $c."\\r\\n"; while(my $l=<$s>){$l=~s/\\r?\\n$//; print "R $l\\n"; last if $l eq "END" || $l=~/^(VERSION|ERROR)/;} \
            alarm 0; close $s; 1 }; if(!defined $ok){ print "FAIL timed out\\n" } elsif($ok){ print "OK\\n" } }
            """
        let pairs = targets.map { "\(ShellQuote.quote($0.ip)) \($0.port)" }.joined(separator: " ")
        return """
            cct_probe() {
              c=$1; shift
              if command -v php >/dev/null 2>&1; then php -n -r \(ShellQuote.quote(php)) -- "$c" "$@"
              elif command -v perl >/dev/null 2>&1; then perl -e \(ShellQuote.quote(perl)) "$c" "$@"
              else
                while [ $# -ge 2 ]; do
                  echo "BEGIN $1 $2"
                  if ! command -v nc >/dev/null 2>&1; then echo NOCLIENT
                  elif out=$(printf '%s\\r\\nquit\\r\\n' "$c" | nc -w \(t) "$1" "$2" 2>&1) && [ -n "$out" ]; then
                    printf '%s\\n' "$out" | tr -d '\\r' | sed 's/^/R /'; echo OK
                  else echo "FAIL no answer"; fi
                  shift 2
                done
              fi
            }
            cct_probe \(ShellQuote.quote(command)) \(pairs)

            """
    }

    /// Prints `EXT yes|no`, `HANDLER value`, `PATH value` as PHP sees them with the host's php.ini.
    static func phpSessionSettings(phpIni: String, extensionName: String) -> String {
        let php = """
            echo "EXT ".(extension_loaded($argv[1])?"yes":"no")."\\n"; \
            echo "HANDLER ".ini_get("session.save_handler")."\\n"; echo "PATH ".ini_get("session.save_path")."\\n";
            """
        return "php -c \(ShellQuote.quote(phpIni)) -r \(ShellQuote.quote(php)) -- \(ShellQuote.quote(extensionName))\n"
    }

    /// What decides which memcached a session lands on: the handler, the server list and the extensions'
    /// hashing settings. `sessionWrite` prints them (`CONF key value`) for `SessionSharingCheck`.
    static let sessionPlacementSettings = [
        "session.save_handler", "session.save_path", "memcache.hash_strategy", "memcache.hash_function",
        "memcache.session_redundancy", "memcached.sess_prefix", "memcached.sess_consistent_hash",
        "memcached.sess_number_of_replicas", "memcached.sess_binary_protocol",
    ]

    /// Writes `value` into the session `id` through the host's configured session handler, then prints the
    /// `sessionPlacementSettings` (ini_get; empty when the extension does not define one).
    static func sessionWrite(phpIni: String, id: String, value: String) -> String {
        let keys = sessionPlacementSettings.map { "\"\($0)\"" }.joined(separator: ",")
        let php = """
            session_id($argv[1]); if(!@session_start()){echo "FAIL session_start\\n"; exit(1);} \
            $_SESSION["clusterctl_verify"]=$argv[2]; session_write_close(); echo "WROTE\\n"; \
            foreach(array(\(keys)) as $k){ $v=ini_get($k); echo "CONF ".$k."=".($v===false?"":$v)."\\n"; }
            """
        return "php -c \(ShellQuote.quote(phpIni)) -r \(ShellQuote.quote(php)) -- \(ShellQuote.quote(id)) \(ShellQuote.quote(value)) 2>&1\n"
    }

    /// For each session id prints `READ id value` (empty value when the session is unknown), then destroys the
    /// sessions `thenDestroy` names, all in one PHP process: a reader reads every other web host's session, so
    /// one process per id would make verify quadratic in PHP start-ups. Output is buffered because PHP refuses
    /// to switch session ids once anything was printed ("headers already sent"), even on the command line.
    static func sessionRead(phpIni: String, ids: [String], thenDestroy: [String] = []) -> String {
        sessionProcess(phpIni: phpIni, read: ids, destroy: thenDestroy, output: "2>&1")
    }

    /// Destroys the given sessions (verify leaves nothing behind in memcached): `sessionRead` reading none.
    static func sessionDestroy(phpIni: String, ids: [String]) -> String {
        sessionProcess(phpIni: phpIni, read: [], destroy: ids, output: ">/dev/null 2>&1")
    }

    /// The one PHP process of `sessionRead` and `sessionDestroy`; `output`: its redirection.
    private static func sessionProcess(phpIni: String, read: [String], destroy: [String], output: String) -> String {
        // argv: how many ids to read, those ids, then the ids to destroy.
        let php = """
            ob_start(); $n=(int)$argv[1]; for($i=2;$i<count($argv);$i++){ $_SESSION=array(); session_id($argv[$i]); @session_start(); \
            if($i<$n+2){ echo "READ ".$argv[$i]." ".(isset($_SESSION["clusterctl_verify"])?$_SESSION["clusterctl_verify"]:"")."\\n"; \
            session_write_close(); } else { @session_destroy(); } } ob_end_flush();
            """
        return "php -c \(ShellQuote.quote(phpIni)) -r \(ShellQuote.quote(php)) -- \(read.count) "
            + (read + destroy).map(ShellQuote.quote).joined(separator: " ") + " \(output)\n"
    }

    /// The test page verify serves for the HTTP check: sets (`?set=`), reads, or destroys its session.
    static let sessionTestPage = """
        <?php
        // Written by `clusterctl verify` for one run and removed afterwards.
        session_start();
        if (isset($_GET['destroy'])) { session_destroy(); echo "DESTROYED"; exit; }
        if (isset($_GET['set'])) { $_SESSION['clusterctl_verify'] = $_GET['set']; }
        echo 'VALUE ', isset($_SESSION['clusterctl_verify']) ? $_SESSION['clusterctl_verify'] : '';

        """

    /// Fetches `url` with the session cookie over HTTP; prints `BODY ...` or `FAIL reason`.
    static func httpGet(url: String, sessionID: String) -> String {
        let php = """
            ini_set("default_socket_timeout","5"); \
            $c=stream_context_create(array("http"=>array("header"=>"Cookie: PHPSESSID=".$argv[2]."\\r\\n"))); \
            $r=@file_get_contents($argv[1],false,$c); \
            if($r===false){$e=error_get_last(); echo "FAIL ".($e?$e["message"]:"no answer")."\\n"; exit(1);} echo "BODY ".$r."\\n";
            """
        return "php -n -r \(ShellQuote.quote(php)) -- \(ShellQuote.quote(url)) \(ShellQuote.quote(sessionID)) 2>&1\n"
    }
}

/// Parses the line reports the probes print.
enum ProbeOutput {
    struct TCPResult: Equatable {
        var ip: String
        var port: Int
        /// Server lines (without the `R ` prefix).
        var lines: [String] = []
        /// nil when connected; otherwise why not (`NOCLIENT` → "no php, perl or nc on the host").
        var failure: String?
        var noClient = false
        var connected: Bool { failure == nil && !noClient }
    }

    static func tcpResults(_ output: String) -> [TCPResult] {
        var results: [TCPResult] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("BEGIN ") {
                let parts = line.split(separator: " ")
                guard parts.count == 3, let port = Int(parts[2]) else { continue }
                results.append(TCPResult(ip: String(parts[1]), port: port, failure: "no report"))
            } else if !results.isEmpty {
                let i = results.count - 1
                if line.hasPrefix("R ") {
                    results[i].lines.append(String(line.dropFirst(2)))
                } else if line == "OK" {
                    results[i].failure = nil
                } else if line.hasPrefix("FAIL") {
                    results[i].failure = String(line.dropFirst(4)).trimmingSpaces
                } else if line == "NOCLIENT" {
                    results[i].noClient = true
                    results[i].failure = "no php, perl or nc on the host to probe with"
                }
            }
        }
        return results
    }

    /// `STAT name value` lines into a dictionary.
    static func stats(_ lines: [String]) -> [String: String] {
        var stats: [String: String] = [:]
        for line in lines where line.hasPrefix("STAT ") {
            let parts = line.split(separator: " ", maxSplits: 2)
            if parts.count == 3 { stats[String(parts[1])] = String(parts[2]) }
        }
        return stats
    }

    /// Value after `PREFIX ` on the first line that has it.
    static func field(_ prefix: String, in output: String) -> String? {
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) where line.hasPrefix(prefix + " ") || line == prefix {
            return String(line.dropFirst(prefix.count)).trimmingLeadingSpace
        }
        return nil
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }

    fileprivate var trimmingLeadingSpace: String {
        hasPrefix(" ") ? String(dropFirst()) : self
    }
}
