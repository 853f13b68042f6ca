"""`python -m infra verify STACK`: compare a stack's live SageMaker endpoints with what the stack declares.

`declared` reads the declaration from the offline plan, `live` reads AWS with boto3, `compare` lists
the differences (pure), `command` runs the three and chooses the exit code.
"""
