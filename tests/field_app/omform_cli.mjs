// Node entry point for tests/field_app/test_omform_parity.py: reads {judge: [...], forms: [...]} as JSON
// on stdin, answers with what field_app/static/field_app/app/omform.js makes of them on stdout.
//   judge: [{computation, values, limits}]            -> judge(...)
//   pairs: [{computation, rows, standard, limits}]    -> judgePairs(...)
//   forms: [{template, instruments, groups, entries, offsetMinutes}]
//          -> {answers: readAnswers(...), judgements: judgeForm(...)}
import { buildForm, judge, judgeForm, judgePairs, readAnswers } from "../../field_app/static/field_app/app/omform.js";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const cases = JSON.parse(input);
const out = {
  judge: (cases.judge || []).map((c) => judge(c.computation, c.values, c.limits)),
  pairs: (cases.pairs || []).map((c) => judgePairs(c.computation, c.rows, c.standard, c.limits)),
  forms: (cases.forms || []).map((c) => {
    const form = buildForm(c.template, { instruments: c.instruments, groups: c.groups });
    const answers = readAnswers(form, c.entries, { offsetMinutes: c.offsetMinutes });
    return { blocks: form.blocks.map((b) => b.key), answers, judgements: judgeForm(form, answers) };
  }),
};
process.stdout.write(JSON.stringify(out));
