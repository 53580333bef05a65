# bash completion for the ff commands. Install as one file per command name
# (make install does) or source it.

_ff_opts() {
	case $1 in
	ff-cat)
		echo "--format --output --delimiter --quiet --help --version" ;;
	ff-compute)
		echo "--store --spec --output --start --end --mode --batch --replace --shard --lateness --memory --skip-bad --max-bad
		      --delimiter --wait --quiet --verbose --help --version --table --time --key --timestamp-key
		      --window --slide --timezone --input-timezone --input-time-format --partition --feature --describe" ;;
	ff-gen-trips)
		echo "--rows --seed --start --days --zones --output --quiet --help --version" ;;
	ff-monitor)
		echo "--store --columns --time-column --format --as-of --max-null-rate --unique-key
		      --partition --range --max-age --now --by-key --history --psi-threshold --ks-threshold
		      --bins --split --reference-range --current-range --by --report --ascii --registry
		      --blueprint --delimiter --quiet --help --version" ;;
	ff-models)
		echo "--registry --alias --description --force --format --output --wait --quiet --help --version" ;;
	ff-join)
		echo "--store --spec --output --format --delimiter --as-of --quiet --help --version --derive --lookup
		      --key --timestamp --features --rename --default --lookback --exact --exclude
		      --input-timezone --input-time-format" ;;
	ff-train-set)
		echo "--store --spec --blueprint --output --format --strict --as-of --reproduce --delimiter
		      --input-timezone --input-time-format --quiet --help --version" ;;
	ff-train)
		echo "--blueprint --output --rounds --depth --eta --min-child-weight --subsample
		      --colsample --lambda --seed --threads --objective --holdout --early-stopping
		      --time-column --categorical --delimiter --quiet --help --version" ;;
	ff-predict)
		echo "--model --registry --store --any-store --online --stats --skew-check --fallback
		      --with-features --with-fallbacks --format --output --delimiter --quiet --help --version" ;;
	ff-sync-online)
		echo "--store --online --full --as-of --retention --key-ttl --follow --interval --verbose --wait --quiet
		      --help --version" ;;
	ff-store)
		echo "--format --online --keep-versions --keep --wait --quiet --help --version" ;;
	ff-serve)
		echo "--model --online --any-store --registry --address --port --port-file --threads
		      --body-limit --max-rows --timeout --grace --log --quiet --help --version" ;;
	esac
}

# Whether an ff-models command line already has its command (a word before
# the current one that is neither an option nor an option's value).
_ff_models_has_command() {
	local i w
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-r|--registry|--alias|--description|--format|-o|--output) ((i++)) ;;
		-*) ;;
		*) return 0 ;;
		esac
	done
	return 1
}

_ff() {
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[0]##*/}
	case $cmd:$prev in
	ff-models:--format)
		COMPREPLY=($(compgen -W "text csv json" -- "$cur")); return ;;
	ff-models:--alias|ff-models:--description)
		return ;;
	ff-monitor:--format|ff-store:--format)
		COMPREPLY=($(compgen -W "text csv json" -- "$cur")); return ;;
	ff-store:--keep-versions)
		COMPREPLY=($(compgen -W "1 10 100" -- "$cur")); return ;;
	ff-store:--keep)
		COMPREPLY=($(compgen -W "7d 30d 365d" -- "$cur")); return ;;
	ff-monitor:--by)
		COMPREPLY=($(compgen -W "day week month" -- "$cur")); return ;;
	ff-monitor:--report)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	ff-monitor:-c|ff-monitor:--columns|ff-monitor:--unique-key|ff-monitor:--partition|\
	ff-monitor:--range|ff-monitor:--max-age|ff-monitor:--now|ff-monitor:--max-null-rate|\
	ff-monitor:--psi-threshold|ff-monitor:--ks-threshold|ff-monitor:--bins|ff-monitor:--split|\
	ff-monitor:--reference-range|ff-monitor:--current-range|ff-monitor:-t)
		return ;;
	esac
	case $prev in
	--online) # a file, or a Redis address (ff-online(5))
		COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "redis://127.0.0.1:6379/0 unix:///" -- "$cur"))
		return ;;
	--key-ttl)
		COMPREPLY=($(compgen -W "12h 1d 7d 30d" -- "$cur")); return ;;
	-s|--store|-o|--output|-b|--blueprint|-r|--registry|-m|--model|--port-file|--log)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	-a|--address)
		COMPREPLY=($(compgen -W "127.0.0.1 0.0.0.0" -- "$cur")); return ;;
	-p|--port)
		COMPREPLY=($(compgen -W "8080 0" -- "$cur")); return ;;
	--body-limit)
		COMPREPLY=($(compgen -W "64K 1M 16M" -- "$cur")); return ;;
	-t|--max-rows|--timeout|--grace)
		return ;;
	--fallback)
		COMPREPLY=($(compgen -W "mean missing" -- "$cur")); return ;;
	--objective)
		COMPREPLY=($(compgen -W "reg:squarederror reg:absoluteerror reg:pseudohubererror
			reg:squaredlogerror reg:gamma reg:tweedie count:poisson" -- "$cur")); return ;;
	--rounds|--depth|--eta|--min-child-weight|--subsample|--colsample|--lambda|--threads)
		return ;;
	--holdout|--early-stopping|--time-column|--categorical)
		return ;;
	-f|--spec)
		COMPREPLY=($(compgen -f -X '!*.spec' -- "$cur") $(compgen -d -- "$cur")); return ;;
	--mode)
		COMPREPLY=($(compgen -W "merge overwrite" -- "$cur")); return ;;
	--format)
		COMPREPLY=($(compgen -W "csv bin" -- "$cur")); return ;;
	--input-time-format)
		COMPREPLY=($(compgen -W "text date epoch-s epoch-ms" -- "$cur")); return ;;
	--lateness)
		COMPREPLY=($(compgen -W "1h 1d 7d 35d unbounded" -- "$cur")); return ;;
	--memory)
		COMPREPLY=($(compgen -W "16M 64M 256M 1G" -- "$cur")); return ;;
	--retention)
		COMPREPLY=($(compgen -W "12h 1d 7d 30d" -- "$cur")); return ;;
	--interval)
		COMPREPLY=($(compgen -W "1s 5s 1m" -- "$cur")); return ;;
	--timezone)
		COMPREPLY=($(cd /usr/share/zoneinfo 2>/dev/null && compgen -f -- "$cur")); return ;;
	--partition)
		COMPREPLY=($(compgen -W "yyyy_mm none" -- "$cur")); return ;;
	--table|--time|--key|--timestamp-key|--window|--slide|--feature|--describe|--start|--end|-n|--rows|--seed|--days)
		return ;;
	--derive|--lookup|--timestamp|--features|--rename|--default|--lookback|--exclude|--as-of)
		return ;;
	--reproduce)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_ff_opts "$cmd")" -- "$cur"))
	elif [[ $cmd == ff-store && $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "ls history show backup restore vacuum" -- "$cur"))
	elif [[ $cmd == ff-monitor && $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "profile freshness drift lineage" -- "$cur"))
	elif [[ $cmd == ff-models ]] && ! _ff_models_has_command; then
		COMPREPLY=($(compgen -W "register list show alias unalias delete export uses needs" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}

complete -F _ff ff-cat ff-compute ff-gen-trips ff-join ff-models ff-monitor ff-predict ff-serve ff-store ff-sync-online ff-train ff-train-set
