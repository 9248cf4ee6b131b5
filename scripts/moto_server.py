"""The one launcher of the AWS emulator for the tests: moto in server mode, as
`python -m moto.server ARGS` runs it, with a correction of moto 5.2.6's Step Functions engine.

    python3 scripts/moto_server.py [--until-stdin-closes] -H 127.0.0.1 -p PORT

`--until-stdin-closes`: the server exits when its standard input closes (how the Swift tests'
ChildServer stops its children, even when the test process dies).

What it corrects, and only on moto 5.2.6 (on any other version it starts moto as it is and says
so on stderr). moto's engine executes a state machine's `arn:aws:states:::states:startExecution`
task (a child workflow, `.sync`/`.sync:2`, or an asynchronous start) by calling boto3's
`start_execution(**parameters)` with the parameters as the definition writes them, in the
casing of Step Functions' service integrations (`StateMachineArn`, `Input`, `Name`). Step
Functions' own API is a JSON protocol whose members are camelCase (`stateMachineArn`, `input`,
`name`), and the engine's client has botocore's parameter validation off, so botocore's
serializer fails with `KeyError: 'StateMachineArn'` and every such task fails with
`States.Runtime`. The engine has the conversions (`_to_boto_request`, `_from_boto_response`, used
by the integrations its authors ported them for) but its Step Functions integration's
`_normalise_parameters`/`_normalise_response` do not call them. So:

1. the request: the integration's parameters are converted to the operation's input members by
   those helpers (`StateMachineArn` → `stateMachineArn`, ...);
2. the answer: `startExecution`'s answer and `.sync`/`.sync:2`'s DescribeExecution answer are
   converted back to the casing AWS documents for the integration's output (`ExecutionArn`,
   `StartDate`, `Output`, `Status`, ...; without it `.sync:2` fails with
   `KeyError: 'ExecutionArn'`, which it reads back itself);
3. a start without a `Name`: moto's executing backend names such an execution `None` (its ARN
   ends in `:None`), so a second one fails with `ExecutionAlreadyExists`; AWS names it with a
   generated UUID, as moto's non-executing backend already does, and so does this correction;
4. DescribeExecution's `output` of an executed state machine: moto answers a string result
   without its quotes (`i2` for "i2") and leaves a null one out, so `.sync:2`, which parses it,
   fails; AWS answers the output's JSON text (`"i2"`, `null`), and so does this correction.

Nothing else changes. AWS itself needs none of this: the definitions are the ones AWS runs.
"""
import sys

MOTO_VERSION = "5.2.6"


def correct_stepfunctions():
    """Applies the four corrections above to moto's Step Functions engine (in this process,
    where moto's server runs it). Returns why it did not, or None."""
    import moto
    if moto.__version__ != MOTO_VERSION:
        return (f"moto {moto.__version__} (not {MOTO_VERSION}): its Step Functions engine is left as it is; "
                "`states:startExecution` tasks may fail on it (scripts/install-test-deps.sh installs the pinned moto)")
    import uuid

    import botocore.session
    from botocore import xform_name
    from moto.stepfunctions import responses
    from moto.stepfunctions.parser import models
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn

    sfn = state_task_service_sfn.StateTaskServiceSfn
    service = botocore.session.get_session().get_service_model("stepfunctions")
    operations = {xform_name(name): service.operation_model(name) for name in service.operation_names}

    def operation(task, service_action_name):
        # The task's action (`startExecution`), or the one the engine names (`describe_execution`).
        return operations[task._get_boto_service_action(service_action_name)]

    # 1. The request in the API's member names (after the integration's own normalisation, which
    # makes `Input` a JSON string).
    normalise_parameters = sfn._normalise_parameters

    def corrected_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        normalise_parameters(self, parameters, boto_service_name=boto_service_name, service_action_name=service_action_name)
        shape = operation(self, service_action_name).input_shape
        if shape is not None:
            self._to_boto_request(parameters, shape)

    # 2. The answer in the integration's casing (StateTaskServiceSfn has no _normalise_response of
    # its own: the base class's does nothing).
    def corrected_response(self, response, boto_service_name=None, service_action_name=None):
        shape = operation(self, service_action_name).output_shape
        if shape is not None:
            self._from_boto_response(response, shape)

    sfn._normalise_parameters = corrected_parameters
    sfn._normalise_response = corrected_response

    # 3. A start without a name is named with a UUID.
    backend = models.StepFunctionsParserBackend
    start_execution = backend.start_execution

    def corrected_start(self, state_machine_arn, name=None, *args, **kwargs):
        return start_execution(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

    backend.start_execution = corrected_start

    # 4. DescribeExecution's `output` as JSON text. The executing backend keeps an execution's
    # output as the value itself; moto's DescribeExecution answer passes a string value on as if
    # it were JSON text already (`i2` for the result "i2") and leaves out a null one, so `.sync:2`,
    # which parses it, fails ("Expecting value"). AWS answers the JSON text (`"i2"`, `null`).
    describe_execution = responses.StepFunctionResponse.describe_execution

    def corrected_describe(self):
        result = describe_execution(self)
        if isinstance(self.stepfunction_backend, backend) and result.result.get("status") == "SUCCEEDED":
            execution = self.stepfunction_backend.describe_execution(result.result["executionArn"])
            result.result["output"] = to_json_str(execution.output, separators=(",", ":"))
        return result

    responses.StepFunctionResponse.describe_execution = corrected_describe
    return None


def main(argv):
    if argv[:1] == ["--until-stdin-closes"]:
        import os
        import threading
        argv = argv[1:]
        threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    skipped = correct_stepfunctions()
    if skipped:
        print(f"moto_server.py: {skipped}", file=sys.stderr, flush=True)
    from moto.server import main as serve
    sys.argv[1:] = argv
    serve(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
