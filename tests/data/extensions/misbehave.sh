#!/bin/sh
# A tiny extension for the client's tests: it answers every request as $MISBEHAVE says.
#   garbage   a line that is not JSON
#   silent    nothing (it sleeps): the client's deadline must end it
#   exit      exits 3 after a line on stderr, without answering
#   wrong-id  a reply with another id
#   events    two events, then an ok reply
#   checkpoint a checkpoint, then a reply quoting the client's answer
#   refuse    {"ok": false, "error": ...}
#   activity  an event, then runs until SIGTERM and answers with one judgment
while read -r line; do
  id=$(printf '%s' "$line" | sed 's/.*"id":\([0-9]*\).*/\1/')
  # In activity mode it describes itself, so an experiment can use it.
  if [ "$MISBEHAVE" = activity ]; then
    case "$line" in
      *'"request":"describe"'*)
        echo "{\"id\": $id, \"ok\": true, \"name\": \"misbehave\", \"protocol\": 1, \"activities\": [{\"name\": \"writes\", \"params\": [{\"name\": \"rate\", \"kind\": \"integer\", \"default\": 1}]}]}"
        continue ;;
    esac
  fi
  case "$MISBEHAVE" in
    garbage) echo "this is not json" ;;
    silent) sleep 30 ;;
    exit) echo "misbehave: giving up" >&2; exit 3 ;;
    wrong-id) echo "{\"id\": 999, \"ok\": true}" ;;
    events)
      echo "{\"event\": \"step\", \"n\": 1}"
      echo "{\"event\": \"step\", \"n\": 2, \"note\": \"two\"}"
      echo "{\"id\": $id, \"ok\": true, \"value\": 42}" ;;
    checkpoint)
      echo "{\"checkpoint\": {\"saved\": \"before\"}}"
      read -r answer
      echo "{\"id\": $id, \"ok\": true, \"answer\": $answer}" ;;
    activity)
      trap 'echo "{\"id\": $id, \"ok\": true, \"judgments\": [{\"metric\": \"writes.errors\", \"threshold\": \"errors < 1\", \"held\": true, \"measured\": 0, \"message\": \"no write failed\"}]}"; exit 0' TERM
      echo "{\"event\": \"activity.running\", \"line\": \"$(printf '%s' "$line" | sed 's/.*"activity":"\([a-z]*\)".*/\1/')\"}"
      while :; do sleep 0.05; done ;;
    refuse) echo "{\"id\": $id, \"ok\": false, \"error\": \"no, thank you\"}" ;;
    *) echo "{\"id\": $id, \"ok\": false, \"error\": \"unknown mode\"}" ;;
  esac
done
