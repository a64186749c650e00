"""Messages of input checks against hidden characters and hand-made requests (issue 15).

``field.*``: one message per field of a form, shown next to the field. ``apply.bad_input``:
the whole public form was refused because a request, not a browser form, sent it.
"""

from __future__ import annotations

KK = {
    "field.invisible_chars": (
        "Мәтінде көрінбейтін таңбалар бар (мәтін бағытын ауыстыратын немесе ені нөлге тең "
        "таңбалар). Олар көбіне басқа бағдарламадан көшіргенде ілесіп келеді: мәтінді қолмен "
        "қайта теріңіз."
    ),
    "field.line_break": (
        "Бұл өріс бір жолға ғана арналған: жол ауыстыруды өшіріп, мәтінді бір жолға жазыңыз."
    ),
    "field.not_text": "Бұл өріске мәтін ғана жіберуге болады. Бетті жаңартып, қайта толтырыңыз.",
    "apply.bad_input": (
        "Өтінім қабылданбады: форма деректері дұрыс емес. Бетті жаңартып, форманы қайта толтырыңыз."
    ),
}

RU = {
    "field.invisible_chars": (
        "В тексте есть невидимые символы (меняющие направление текста или нулевой ширины). "
        "Обычно они попадают при копировании из другой программы: наберите текст заново "
        "вручную."
    ),
    "field.line_break": (
        "Это поле — одна строка: уберите перенос строки и напишите текст в одну строку."
    ),
    "field.not_text": (
        "В это поле можно отправить только текст. Обновите страницу и заполните форму снова."
    ),
    "apply.bad_input": (
        "Заявка не принята: данные формы некорректны. Обновите страницу и заполните форму снова."
    ),
}

EN = {
    "field.invisible_chars": (
        "The text contains invisible characters (ones that change the text's direction or "
        "have zero width). They usually come along when text is copied from another program: "
        "please type the text in by hand."
    ),
    "field.line_break": (
        "This field takes one line: remove the line break and write it on one line."
    ),
    "field.not_text": (
        "Only text can be sent in this field. Reload the page and fill in the form again."
    ),
    "apply.bad_input": (
        "The application was not accepted: the form data is not valid. Reload the page and "
        "fill in the form again."
    ),
}
