"""An interpreter of Microsoft's WOPI validator suite (wopi-validator-core 2.0.6, `TestCases.xml`), run over real
HTTP against the front-end and `wopi-storage` as part of plain `pytest`.

It reads the suite and its JSON schemas from the shared folder (`WOPI_VALIDATOR_CASES`, or
`$WOPI_SHARED_DIR/wopi/validator/TestCases.xml`, `WOPI_SHARED_DIR` defaulting to `../shared` beside the
repository) and reproduces the validator CLI run with `-e All` (delay groups left out), signing its requests
with the dummy proof keys of the validator's pull request #145 (`wopi/validator/proofkeys/`):

    cases.py       the XML as dataclasses, filtered by category as TestCaseFactory does
    dotnet.py      the .NET behaviours seen on the wire: UTF-7 names, the aggressive token escaping, query
                   parameters, absolute URIs, reading a body as text
    jtoken.py      the Newtonsoft behaviours: JObject.Load, SelectToken, Value<T>() conversions
    requests.py    each request type: URL, headers, body; the HTTP client (no redirects, no default headers)
    proofs.py      the proof-key headers (X-WOPI-Proof, X-WOPI-ProofOld, X-WOPI-TimeStamp) and their mutators
    validators.py  the response validators and ValidatorFactory; properties.py the JSON property checks
    runner.py      prerequisites and skip rules, saved state, cleanup requests, results
    report.py      the per-group table, the failures, and the known-failure pins (known_failures.txt)

The report is printed at the end of the pytest run and written to `test-output/validator-report.txt`.
"""
