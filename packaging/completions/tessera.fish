# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_tessera_global_optspecs
    string join \n store= socket= connect= tls-cert= tls-key= tls-ca= h/help V/version
end

function __fish_tessera_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_tessera_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_tessera_using_subcommand
    set -l cmd (__fish_tessera_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c tessera -n "__fish_tessera_needs_command" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_needs_command" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_needs_command" -l connect -d 'Reach the service on another host (`tessera serve --listen`), over mutual TLS: give it before the command, with --tls-cert, --tls-key and --tls-ca' -r
complete -c tessera -n "__fish_tessera_needs_command" -l tls-cert -d 'With --connect: this client\'s certificate (PEM); its common name is the store user' -r -F
complete -c tessera -n "__fish_tessera_needs_command" -l tls-key -d 'With --connect: this client\'s private key (PEM)' -r -F
complete -c tessera -n "__fish_tessera_needs_command" -l tls-ca -d 'With --connect: the CA the service\'s certificate chains to (PEM)' -r -F
complete -c tessera -n "__fish_tessera_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c tessera -n "__fish_tessera_needs_command" -s V -l version -d 'Print version'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "vendor" -d 'The vendor\'s tools: keys, issuing licences, endorsing issuers'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "inspect" -d 'Show what any Tessera document says, without trusting it'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "verify" -d 'Check a document: format, key, signature, endorsement, serial, dates'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "init" -d 'Create the store from the vendor\'s licence; you become its Owner/manager'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "import" -d 'Import a licence file (Owner/manager, Financial office staff)'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "status" -d 'The installation: licence state, pools, users, metered services'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "users" -d 'Users, their roles, seats and add-ons'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "roles" -d 'The roles\' permission matrix'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "check" -d 'May this user work now? Exit 0 yes, 1 no (for the licensed product); --lease for a signed lease'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "installation" -d 'The installation\'s public key (which checks leases) and the leases\' lifetime'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "usage" -d 'Record usage (for the licensed product)'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "tick" -d 'Apply what time has made due: grace ends, expiries'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "audit" -d 'The action log, or `audit verify` to check it'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "export" -d 'Export the signed contracts'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "demo" -d 'Make a demo store with a demo licence, users and months of history'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "request" -d 'Ask the vendor for seats, or give seats back (a signed licence request)'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "report" -d 'Make a signed report for the vendor'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "outbox" -d 'The confirmation e-mails written to the outbox'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "serve" -d 'Own the store and answer clients on a Unix socket (SIGTERM or SIGINT stops it cleanly)'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "metrics" -d 'The metrics once, as Prometheus text (for the node exporter\'s textfile collector)'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "generate" -d 'The man page and shell completions, generated from this command line'
complete -c tessera -n "__fish_tessera_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -f -a "keygen" -d 'Make a key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -f -a "issue" -d 'Sign a licence from a TOML or JSON spec (or many, with --batch)'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -f -a "endorse" -d 'Endorse an issuer key with a root key for named products until a date'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -f -a "verify-request" -d 'Check a site\'s licence request (signature, installation key) and show what it asks'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -f -a "verify-report" -d 'Check a site\'s usage report (signature, installation key) and show what it reports'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -f -a "invoice" -d 'The invoice lines of a usage report'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -f -a "clock" -d 'Answer a site\'s clock request with the vendor\'s time, signed by a root key'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -f -a "ledger" -d 'The vendor\'s ledger: installations, licences issued, invoices (CSV too); import an installations.json'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and not __fish_seen_subcommand_from keygen issue endorse verify-request verify-report invoice clock ledger help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from keygen" -l out -d 'Path prefix: writes PREFIX.key and PREFIX.pub; neither may exist yet' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from keygen" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from keygen" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from keygen" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l key -d 'The signing key: a root key, or an issuer key with --endorsement' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l endorsement -d 'The root\'s endorsement of the issuer key, carried in every licence it signs' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l out -d 'Write the licence here (never overwritten) instead of standard output' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l batch -d 'Issue one licence per line of a JSON Lines file, all in one transaction: one bad line and nothing is issued' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l out-dir -d 'With --batch: the directory the licences are written to, as SERIAL-SEQUENCE.lic' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l fulfil -d 'Issue the next licence granting what this licence request asks, on top of the latest licence the ledger holds for its serial (or of SPEC, the licence in force at the site). A request is fulfilled once' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l ledger -d 'The vendor\'s ledger: a SQLite file (made on first use) or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL. Default: $TESSERA_LEDGER, else ~/.local/share/tessera-vendor/ledger.sqlite (under $XDG_DATA_HOME when set)' -r
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -l accept-new-key -d 'Accept a different installation key for a known serial (a reinstalled site): the ledger keeps the old key, retired now, and takes this one'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from issue" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from endorse" -l key -d 'The root\'s secret key (PKCS#8 PEM)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from endorse" -l issuer -d 'The issuer\'s name, shown beside its licences' -r
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from endorse" -l products -d 'Products the issuer may license, comma-separated' -r
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from endorse" -l until -d 'Last day the endorsement holds (YYYY-MM-DD)' -r
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from endorse" -l out -d 'Write the endorsement here (never overwritten) instead of standard output' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from endorse" -l ledger -d 'The vendor\'s ledger: a SQLite file (made on first use) or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL. Default: $TESSERA_LEDGER, else ~/.local/share/tessera-vendor/ledger.sqlite (under $XDG_DATA_HOME when set)' -r
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from endorse" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from endorse" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from endorse" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-request" -l ledger -d 'The vendor\'s ledger: a SQLite file (made on first use) or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL. Default: $TESSERA_LEDGER, else ~/.local/share/tessera-vendor/ledger.sqlite (under $XDG_DATA_HOME when set)' -r
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-request" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-request" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-request" -l accept-new-key -d 'Accept a different installation key for a known serial (a reinstalled site): the ledger keeps the old key, retired now, and takes this one'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-request" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-request" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-report" -l ledger -d 'The vendor\'s ledger: a SQLite file (made on first use) or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL. Default: $TESSERA_LEDGER, else ~/.local/share/tessera-vendor/ledger.sqlite (under $XDG_DATA_HOME when set)' -r
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-report" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-report" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-report" -l accept-new-key -d 'Accept a different installation key for a known serial (a reinstalled site): the ledger keeps the old key, retired now, and takes this one'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-report" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from verify-report" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from invoice" -l batch -d 'Invoice every report in DIR (a month\'s reports from every site): each report its own invoice; a refused report is named and the rest go on' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from invoice" -l ledger -d 'The vendor\'s ledger: a SQLite file (made on first use) or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL. Default: $TESSERA_LEDGER, else ~/.local/share/tessera-vendor/ledger.sqlite (under $XDG_DATA_HOME when set)' -r
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from invoice" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from invoice" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from invoice" -l accept-new-key -d 'Accept a different installation key for a known serial (a reinstalled site): the ledger keeps the old key, retired now, and takes this one'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from invoice" -l json -d 'Print JSON (amounts as decimal strings)'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from invoice" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from clock" -l key -d 'The root\'s secret key (PKCS#8 PEM): only a root key may vouch for the time' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from clock" -l out -d 'Write the correction here (never overwritten) instead of standard output' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from clock" -l ledger -d 'The vendor\'s ledger: a SQLite file (made on first use) or a postgresql://USER:PASSWORD@HOST:PORT/DATABASE URL. Default: $TESSERA_LEDGER, else ~/.local/share/tessera-vendor/ledger.sqlite (under $XDG_DATA_HOME when set)' -r
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from clock" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from clock" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from clock" -l accept-new-key -d 'Accept a different installation key for a known serial (a reinstalled site): the ledger keeps the old key, retired now, and takes this one'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from clock" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from ledger" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from ledger" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from ledger" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from ledger" -f -a "installations" -d 'Every installation: its current key, when first seen, licences issued, reports, invoices'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from ledger" -f -a "licences" -d 'The licences issued for a serial, by sequence'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from ledger" -f -a "invoices" -d 'The invoices (of one month), with their lines; --csv for a spreadsheet'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from ledger" -f -a "import" -d 'Take an installations.json (kept by earlier versions with --registry) into the ledger; twice changes nothing'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from ledger" -f -a "add-licence" -d 'Record licences signed before the ledger (or elsewhere), so that their sites can be invoiced; each must verify against a root trusted here'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from ledger" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "keygen" -d 'Make a key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "issue" -d 'Sign a licence from a TOML or JSON spec (or many, with --batch)'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "endorse" -d 'Endorse an issuer key with a root key for named products until a date'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "verify-request" -d 'Check a site\'s licence request (signature, installation key) and show what it asks'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "verify-report" -d 'Check a site\'s usage report (signature, installation key) and show what it reports'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "invoice" -d 'The invoice lines of a usage report'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "clock" -d 'Answer a site\'s clock request with the vendor\'s time, signed by a root key'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "ledger" -d 'The vendor\'s ledger: installations, licences issued, invoices (CSV too); import an installations.json'
complete -c tessera -n "__fish_tessera_using_subcommand vendor; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand inspect" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand inspect" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand inspect" -l json -d 'Print JSON; for a licence this is a valid `vendor issue` spec'
complete -c tessera -n "__fish_tessera_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand verify" -l trust -d 'Also trust this root public key (SPKI PEM); may be repeated' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand verify" -l serial -d 'The installation serial the document must be for' -r
complete -c tessera -n "__fish_tessera_using_subcommand verify" -l at -d 'Judge as of this day instead of today (YYYY-MM-DD)' -r
complete -c tessera -n "__fish_tessera_using_subcommand verify" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand verify" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand verify" -l demo -d 'Also trust the demo root (for demo licences only)'
complete -c tessera -n "__fish_tessera_using_subcommand verify" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand verify" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand init" -l licence -d 'The vendor\'s licence for this installation; its serial becomes the installation\'s' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand init" -l owner -d 'The login name of the Owner/manager (default: you). Use it when the store is made as the service\'s user for an administrator' -r
complete -c tessera -n "__fish_tessera_using_subcommand init" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand init" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand init" -l central -d 'This is the central database (the default)'
complete -c tessera -n "__fish_tessera_using_subcommand init" -l satellite -d 'This is a satellite of a central database'
complete -c tessera -n "__fish_tessera_using_subcommand init" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand import" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand import" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand import" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand status" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand status" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand status" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand status" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -f -a "list" -d 'List users, a page at a time'
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -f -a "show" -d 'One user\'s detail: e-mail, role, licence and term, add-ons, state, activation, over-allocation deadline, days charged this month'
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -f -a "add" -d 'Add a user (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -f -a "set" -d 'Change a user\'s role, licence, e-mail or add-ons (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -f -a "deactivate" -d 'Deactivate a user: their seat is freed (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -f -a "activate" -d 'Activate a user; with no free seat they are over-allocated (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -f -a "delete" -d 'Delete a user; the username stays reserved (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and not __fish_seen_subcommand_from list show add set deactivate activate delete help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l licence -d 'Only holders of this licence, e.g. "Jobs User" or "Sales Support"' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l term -d 'Only this term: contracted, monthly or daily' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l search -d 'Only users whose name, e-mail, role, licence or add-ons contain this' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l limit -d 'Users per page' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l after -d 'Start after this username (the previous page\'s last)' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l state -d 'Only users in this state' -r -f -a "active\t''
inactive\t''
deleted\t''"
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l sort -d 'The order (names order users within a role, licence or state; pass the same with `--after` for the next page)' -r -f -a "name\t''
role\t''
licence\t''
state\t''"
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l deleted -d 'Include deleted users'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l no-licence -d 'Only users without a seat'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from show" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from show" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from show" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from add" -l role -d 'Role, e.g. engineer, "Office staff", "Owner/manager", "sales person"' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from add" -l licence -d 'Licence of the seat, e.g. "Jobs User", "Sales Support"' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from add" -l term -d 'Term of the seat: contracted, monthly or daily' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from add" -l email -d 'E-mail address' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from add" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from add" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from set" -l role -d 'New role' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from set" -l licence -d 'New licence ("none" removes the seat)' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from set" -l term -d 'New term' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from set" -l email -d 'New e-mail address' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from set" -l add-on -d 'Give an add-on module (may be repeated)' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from set" -l remove-add-on -d 'Take an add-on module away (may be repeated)' -r
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from set" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from set" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from set" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from deactivate" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from deactivate" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from deactivate" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from activate" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from activate" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from activate" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from delete" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from delete" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from delete" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "list" -d 'List users, a page at a time'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "show" -d 'One user\'s detail: e-mail, role, licence and term, add-ons, state, activation, over-allocation deadline, days charged this month'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a user (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "set" -d 'Change a user\'s role, licence, e-mail or add-ons (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "deactivate" -d 'Deactivate a user: their seat is freed (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "activate" -d 'Activate a user; with no free seat they are over-allocated (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "delete" -d 'Delete a user; the username stays reserved (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand users; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand roles" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand roles" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand roles" -l csv -d 'Print CSV (RFC 4180, CRLF line ends): one record per ladder, level and feature: ladder, level, role, area, feature, read, write, update, delete'
complete -c tessera -n "__fish_tessera_using_subcommand roles" -l json -d 'Print each ladder\'s matrix as JSON: its roles bottom-up and, per feature, each role\'s rights'
complete -c tessera -n "__fish_tessera_using_subcommand roles" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand check" -l lease -d 'For a user who may work, write a signed lease here (replacing the one there): the product renews it at half its life and, while the service cannot be reached, lets the user work until it runs out' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand check" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand check" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand check" -l json -d 'Print JSON: `allowed`, `reason_code`, `reason`, `seat`, `warnings`, `answered_by` (`service` or `store`), and with --lease the lease\'s times'
complete -c tessera -n "__fish_tessera_using_subcommand check" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand installation; and not __fish_seen_subcommand_from key lease-hours help" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand installation; and not __fish_seen_subcommand_from key lease-hours help" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand installation; and not __fish_seen_subcommand_from key lease-hours help" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand installation; and not __fish_seen_subcommand_from key lease-hours help" -f -a "key" -d 'The installation\'s public key (SPKI PEM): a product trusts it to check leases offline'
complete -c tessera -n "__fish_tessera_using_subcommand installation; and not __fish_seen_subcommand_from key lease-hours help" -f -a "lease-hours" -d 'The lifetime of the leases `check --lease` signs, in hours; with HOURS, set it (Owner/manager)'
complete -c tessera -n "__fish_tessera_using_subcommand installation; and not __fish_seen_subcommand_from key lease-hours help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from key" -l out -d 'Write the key here (never overwritten) instead of standard output' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from key" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from key" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from key" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from lease-hours" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from lease-hours" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from lease-hours" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from help" -f -a "key" -d 'The installation\'s public key (SPKI PEM): a product trusts it to check leases offline'
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from help" -f -a "lease-hours" -d 'The lifetime of the leases `check --lease` signs, in hours; with HOURS, set it (Owner/manager)'
complete -c tessera -n "__fish_tessera_using_subcommand installation; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and not __fish_seen_subcommand_from record storage metered help" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand usage; and not __fish_seen_subcommand_from record storage metered help" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand usage; and not __fish_seen_subcommand_from record storage metered help" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and not __fish_seen_subcommand_from record storage metered help" -f -a "record" -d 'A user worked: daily-seat users are charged once per user-day'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and not __fish_seen_subcommand_from record storage metered help" -f -a "storage" -d 'The storage in use now'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and not __fish_seen_subcommand_from record storage metered help" -f -a "metered" -d 'Uses of a metered service to add to this month'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and not __fish_seen_subcommand_from record storage metered help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from record" -l kind -d 'What happened: login, diary-booked or diary-actioned' -r
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from record" -l day -d 'The day it is for (default today)' -r
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from record" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from record" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from record" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from record" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from storage" -l bytes -d 'Bytes in use' -r
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from storage" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from storage" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from storage" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from metered" -l count -d 'How many uses to add' -r
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from metered" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from metered" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from metered" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "record" -d 'A user worked: daily-seat users are charged once per user-day'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "storage" -d 'The storage in use now'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "metered" -d 'Uses of a metered service to add to this month'
complete -c tessera -n "__fish_tessera_using_subcommand usage; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand tick" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand tick" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand tick" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand tick" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand audit; and not __fish_seen_subcommand_from verify help" -l limit -d 'How many events, newest first' -r
complete -c tessera -n "__fish_tessera_using_subcommand audit; and not __fish_seen_subcommand_from verify help" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand audit; and not __fish_seen_subcommand_from verify help" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand audit; and not __fish_seen_subcommand_from verify help" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand audit; and not __fish_seen_subcommand_from verify help" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand audit; and not __fish_seen_subcommand_from verify help" -f -a "verify" -d 'Check the hash chain of events and recount seats and users; exit 1 if anything is wrong'
complete -c tessera -n "__fish_tessera_using_subcommand audit; and not __fish_seen_subcommand_from verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand audit; and __fish_seen_subcommand_from verify" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand audit; and __fish_seen_subcommand_from verify" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand audit; and __fish_seen_subcommand_from verify" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand audit; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Check the hash chain of events and recount seats and users; exit 1 if anything is wrong'
complete -c tessera -n "__fish_tessera_using_subcommand audit; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand export; and not __fish_seen_subcommand_from contracts help" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand export; and not __fish_seen_subcommand_from contracts help" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand export; and not __fish_seen_subcommand_from contracts help" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand export; and not __fish_seen_subcommand_from contracts help" -f -a "contracts" -d 'Every imported licence file as signed, with a readable summary of each beside it (text and PDF: serial, issuer, dates), in a zip'
complete -c tessera -n "__fish_tessera_using_subcommand export; and not __fish_seen_subcommand_from contracts help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand export; and __fish_seen_subcommand_from contracts" -l out -d 'The zip to write (never overwritten)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand export; and __fish_seen_subcommand_from contracts" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand export; and __fish_seen_subcommand_from contracts" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand export; and __fish_seen_subcommand_from contracts" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand export; and __fish_seen_subcommand_from help" -f -a "contracts" -d 'Every imported licence file as signed, with a readable summary of each beside it (text and PDF: serial, issuer, dates), in a zip'
complete -c tessera -n "__fish_tessera_using_subcommand export; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand demo" -l users -d 'How many users to make (up to 200,000), besides the owner and a few new starters' -r
complete -c tessera -n "__fish_tessera_using_subcommand demo" -l months -d 'Months of history to simulate (1 to 12)' -r
complete -c tessera -n "__fish_tessera_using_subcommand demo" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand demo" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand demo" -l no-console -d 'Make the store and stop, instead of opening the console on it'
complete -c tessera -n "__fish_tessera_using_subcommand demo" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand request; and not __fish_seen_subcommand_from seats add-on integration clock help" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and not __fish_seen_subcommand_from seats add-on integration clock help" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and not __fish_seen_subcommand_from seats add-on integration clock help" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand request; and not __fish_seen_subcommand_from seats add-on integration clock help" -f -a "seats" -d 'Buy seats, or give seats back, with the cost shown first'
complete -c tessera -n "__fish_tessera_using_subcommand request; and not __fish_seen_subcommand_from seats add-on integration clock help" -f -a "add-on" -d 'Buy add-on module licences (e.g. an Outlook connector), or give them back from the next period, with the cost shown first'
complete -c tessera -n "__fish_tessera_using_subcommand request; and not __fish_seen_subcommand_from seats add-on integration clock help" -f -a "integration" -d 'Buy licences of an integration with a count of its own, or give them back from the next period (one that follows the standard seat count follows the seats instead)'
complete -c tessera -n "__fish_tessera_using_subcommand request; and not __fish_seen_subcommand_from seats add-on integration clock help" -f -a "clock" -d 'Ask the vendor for its time, to correct the store\'s clock after a wrong clock moved it ahead (the answer is imported with `tessera import`)'
complete -c tessera -n "__fish_tessera_using_subcommand request; and not __fish_seen_subcommand_from seats add-on integration clock help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -l licence -d 'The licence, e.g. "Jobs User", "Sales Support"' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -l term -d 'The term: contracted, monthly or daily' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -l add -d 'How many to buy' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -l remove -d 'How many to give back (from the next period)' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -l note -d 'A note for the vendor' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -l out -d 'Write the signed request here (never overwritten) instead of standard output' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -l json -d 'Print the outcome as JSON (the breakdown\'s amounts as decimal strings)'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from seats" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from add-on" -l name -d 'The add-on module or integration as the licence names it, e.g. "Outlook connector" (any case)' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from add-on" -l add -d 'How many to buy' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from add-on" -l remove -d 'How many to give back (from the next period)' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from add-on" -l note -d 'A note for the vendor' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from add-on" -l out -d 'Write the signed request here (never overwritten) instead of standard output' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from add-on" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from add-on" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from add-on" -l json -d 'Print the outcome as JSON (the breakdown\'s amounts as decimal strings)'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from add-on" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from integration" -l name -d 'The add-on module or integration as the licence names it, e.g. "Outlook connector" (any case)' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from integration" -l add -d 'How many to buy' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from integration" -l remove -d 'How many to give back (from the next period)' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from integration" -l note -d 'A note for the vendor' -r
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from integration" -l out -d 'Write the signed request here (never overwritten) instead of standard output' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from integration" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from integration" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from integration" -l json -d 'Print the outcome as JSON (the breakdown\'s amounts as decimal strings)'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from integration" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from clock" -l out -d 'Write the signed request here (never overwritten) instead of standard output' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from clock" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from clock" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from clock" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from help" -f -a "seats" -d 'Buy seats, or give seats back, with the cost shown first'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from help" -f -a "add-on" -d 'Buy add-on module licences (e.g. an Outlook connector), or give them back from the next period, with the cost shown first'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from help" -f -a "integration" -d 'Buy licences of an integration with a count of its own, or give them back from the next period (one that follows the standard seat count follows the seats instead)'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from help" -f -a "clock" -d 'Ask the vendor for its time, to correct the store\'s clock after a wrong clock moved it ahead (the answer is imported with `tessera import`)'
complete -c tessera -n "__fish_tessera_using_subcommand request; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand report; and not __fish_seen_subcommand_from usage help" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand report; and not __fish_seen_subcommand_from usage help" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand report; and not __fish_seen_subcommand_from usage help" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand report; and not __fish_seen_subcommand_from usage help" -f -a "usage" -d 'A signed usage report of a month for the vendor\'s invoice'
complete -c tessera -n "__fish_tessera_using_subcommand report; and not __fish_seen_subcommand_from usage help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand report; and __fish_seen_subcommand_from usage" -l month -d 'The month, YYYY-MM' -r
complete -c tessera -n "__fish_tessera_using_subcommand report; and __fish_seen_subcommand_from usage" -l out -d 'Write the report here (never overwritten) instead of standard output; a report too large for one file is written as FILE\'s parts, numbered before the extension (usage.part1-of-3.tsr, ...)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand report; and __fish_seen_subcommand_from usage" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand report; and __fish_seen_subcommand_from usage" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand report; and __fish_seen_subcommand_from usage" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "usage" -d 'A signed usage report of a month for the vendor\'s invoice'
complete -c tessera -n "__fish_tessera_using_subcommand report; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand outbox" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand outbox" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand outbox" -l json -d 'Print JSON'
complete -c tessera -n "__fish_tessera_using_subcommand outbox" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l group -d 'Give the socket to this group (mode 0660), so its members can connect' -r
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l tick-every -d 'Seconds between runs of the time-driven rules' -r
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l max-connections-per-user -d 'The most connections one login user may hold open at once' -r
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l idle-timeout -d 'Seconds a new connection may ask nothing before it is closed (one that has made a request is a client and is kept)' -r
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l listen -d 'Also listen for products on other hosts, over mutual TLS only (never plain TCP): needs --tls-cert, --tls-key and --client-ca' -r
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l tls-cert -d 'With --listen: the service\'s certificate chain (PEM)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l tls-key -d 'With --listen: the service\'s private key (PEM)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l client-ca -d 'With --listen: the CA client certificates must chain to; a client certificate\'s subject common name is the store user it acts as' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l client-crl -d 'With --listen: a revocation list of the client CA (PEM); may be repeated' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l metrics -d 'Serve Prometheus metrics over HTTP at http://IP:PORT/metrics, unauthenticated (see docs/METRICS.md); a loopback address unless --metrics-allow-remote' -r
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand serve" -l metrics-allow-remote -d 'With --metrics: allow an address other hosts can reach. Whoever reaches it reads the metrics without authentication: firewall it to the Prometheus server'
complete -c tessera -n "__fish_tessera_using_subcommand serve" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand metrics" -l out -d 'Write to FILE (whole or not at all: a new file renamed over it, as the textfile collector needs; name it *.prom) instead of standard output' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand metrics" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand metrics" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand metrics" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -f -a "man" -d 'The man pages (roff), for man(1): tessera.1 on standard output, or every page into a directory'
complete -c tessera -n "__fish_tessera_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -f -a "completions" -d 'Shell completions'
complete -c tessera -n "__fish_tessera_using_subcommand generate; and not __fish_seen_subcommand_from man completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from man" -l dir -d 'Write every page into DIR (tessera.1, then tessera-SUB.1 and tessera-SUB-SUBSUB.1 for each subcommand), printing each file\'s path' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from man" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from man" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from man" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from completions" -l store -d 'The store directory (default: $TESSERA_STORE, else the per-user data directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from completions" -l socket -d 'The service\'s socket (default: tessera.sock in the store directory)' -r -F
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from completions" -s h -l help -d 'Print help'
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "man" -d 'The man pages (roff), for man(1): tessera.1 on standard output, or every page into a directory'
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "completions" -d 'Shell completions'
complete -c tessera -n "__fish_tessera_using_subcommand generate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "vendor" -d 'The vendor\'s tools: keys, issuing licences, endorsing issuers'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "inspect" -d 'Show what any Tessera document says, without trusting it'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "verify" -d 'Check a document: format, key, signature, endorsement, serial, dates'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "init" -d 'Create the store from the vendor\'s licence; you become its Owner/manager'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "import" -d 'Import a licence file (Owner/manager, Financial office staff)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "status" -d 'The installation: licence state, pools, users, metered services'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "users" -d 'Users, their roles, seats and add-ons'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "roles" -d 'The roles\' permission matrix'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "check" -d 'May this user work now? Exit 0 yes, 1 no (for the licensed product); --lease for a signed lease'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "installation" -d 'The installation\'s public key (which checks leases) and the leases\' lifetime'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "usage" -d 'Record usage (for the licensed product)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "tick" -d 'Apply what time has made due: grace ends, expiries'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "audit" -d 'The action log, or `audit verify` to check it'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "export" -d 'Export the signed contracts'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "demo" -d 'Make a demo store with a demo licence, users and months of history'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "request" -d 'Ask the vendor for seats, or give seats back (a signed licence request)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "report" -d 'Make a signed report for the vendor'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "outbox" -d 'The confirmation e-mails written to the outbox'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "serve" -d 'Own the store and answer clients on a Unix socket (SIGTERM or SIGINT stops it cleanly)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "metrics" -d 'The metrics once, as Prometheus text (for the node exporter\'s textfile collector)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "generate" -d 'The man page and shell completions, generated from this command line'
complete -c tessera -n "__fish_tessera_using_subcommand help; and not __fish_seen_subcommand_from vendor inspect verify init import status users roles check installation usage tick audit export demo request report outbox serve metrics generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "keygen" -d 'Make a key pair: PREFIX.key (secret, mode 0600) and PREFIX.pub'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "issue" -d 'Sign a licence from a TOML or JSON spec (or many, with --batch)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "endorse" -d 'Endorse an issuer key with a root key for named products until a date'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "verify-request" -d 'Check a site\'s licence request (signature, installation key) and show what it asks'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "verify-report" -d 'Check a site\'s usage report (signature, installation key) and show what it reports'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "invoice" -d 'The invoice lines of a usage report'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "clock" -d 'Answer a site\'s clock request with the vendor\'s time, signed by a root key'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from vendor" -f -a "ledger" -d 'The vendor\'s ledger: installations, licences issued, invoices (CSV too); import an installations.json'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "list" -d 'List users, a page at a time'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "show" -d 'One user\'s detail: e-mail, role, licence and term, add-ons, state, activation, over-allocation deadline, days charged this month'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "add" -d 'Add a user (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "set" -d 'Change a user\'s role, licence, e-mail or add-ons (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "deactivate" -d 'Deactivate a user: their seat is freed (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "activate" -d 'Activate a user; with no free seat they are over-allocated (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from users" -f -a "delete" -d 'Delete a user; the username stays reserved (Owner/manager only)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from installation" -f -a "key" -d 'The installation\'s public key (SPKI PEM): a product trusts it to check leases offline'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from installation" -f -a "lease-hours" -d 'The lifetime of the leases `check --lease` signs, in hours; with HOURS, set it (Owner/manager)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from usage" -f -a "record" -d 'A user worked: daily-seat users are charged once per user-day'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from usage" -f -a "storage" -d 'The storage in use now'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from usage" -f -a "metered" -d 'Uses of a metered service to add to this month'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from audit" -f -a "verify" -d 'Check the hash chain of events and recount seats and users; exit 1 if anything is wrong'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from export" -f -a "contracts" -d 'Every imported licence file as signed, with a readable summary of each beside it (text and PDF: serial, issuer, dates), in a zip'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from request" -f -a "seats" -d 'Buy seats, or give seats back, with the cost shown first'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from request" -f -a "add-on" -d 'Buy add-on module licences (e.g. an Outlook connector), or give them back from the next period, with the cost shown first'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from request" -f -a "integration" -d 'Buy licences of an integration with a count of its own, or give them back from the next period (one that follows the standard seat count follows the seats instead)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from request" -f -a "clock" -d 'Ask the vendor for its time, to correct the store\'s clock after a wrong clock moved it ahead (the answer is imported with `tessera import`)'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from report" -f -a "usage" -d 'A signed usage report of a month for the vendor\'s invoice'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "man" -d 'The man pages (roff), for man(1): tessera.1 on standard output, or every page into a directory'
complete -c tessera -n "__fish_tessera_using_subcommand help; and __fish_seen_subcommand_from generate" -f -a "completions" -d 'Shell completions'
