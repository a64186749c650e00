"""Tab-state binding, login hand-over and generic error messages (issue 15: holes 1, 5, 7).

``error.generic`` is all a browser learns about a failure: the details stay in the server log
under the same reference, so staff can quote it to the administrator.
"""

from __future__ import annotations

KK = {
    "error.generic": "Қате орын алды, әрекет орындалмады. Әкімшіге мына сілтеме нөмірін "
    "хабарлаңыз: {id}.",
    "auth.reload_to_login": "Кіруді аяқтау мүмкін болмады. Бетті қайта жүктеп, қайтадан кіріңіз.",
}

RU = {
    "error.generic": "Произошла ошибка, действие не выполнено. Сообщите администратору номер "
    "обращения: {id}.",
    "auth.reload_to_login": "Завершить вход не удалось. Обновите страницу и войдите снова.",
}

EN = {
    "error.generic": "Something went wrong and the action was not carried out. Give the "
    "administrator this reference: {id}.",
    "auth.reload_to_login": "The login could not be completed. Reload the page and log in again.",
}
