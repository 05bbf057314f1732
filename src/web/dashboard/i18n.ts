/**
 * The dashboard's words in English, Ukrainian and Russian, and the current language.
 *
 * Adding a string: add ONE line to TEXTS below, `key: [English, Українська, Русский]`, then
 * use `t('key')` where the text is shown. A missing translation is a tuple of the wrong
 * length and an unknown key is not a `TextKey`: both fail `tsc`.
 * - Variables: write `{name}` in the text and call `t('key', { name })`; numbers are
 *   formatted for the language (`1 234` in Ukrainian).
 * - Counts: give plural forms instead of a string, English `{ one, other }` and Ukrainian
 *   and Russian `{ one, few, many, other }` (Intl.PluralRules picks one), with `{n}` for the
 *   number, and call `plural('key', n)`.
 * - Dates, times and numbers: the helpers in format.ts (Intl in the current locale).
 * - A screen rebuilt on `onLocaleChange` picks the new language up; no string is cached.
 * Keys are grouped by screen (`inbox.…`, `stats.…`); the English text is the accessible name
 * tests and screen readers use (API.md, "Web parts"), so change it only with them.
 */
import { h } from '../shared/dom.js'

export const LOCALES = ['en', 'uk', 'ru'] as const
export type Locale = (typeof LOCALES)[number]
/** Each language's own name: never translated, so anyone finds their language. */
const LANGUAGE_NAMES: Record<Locale, string> = { en: 'English', uk: 'Українська', ru: 'Русский' }

type EnglishPlural = { one: string; other: string }
type SlavicPlural = { one: string; few: string; many: string; other: string }
type Entry = readonly [en: string, uk: string, ru: string] | readonly [en: EnglishPlural, uk: SlavicPlural, ru: SlavicPlural]

const TEXTS = {
  'app.name': ['Live chat', 'Live chat', 'Live chat'],
  'app.title': ['Inbox · Live chat', 'Вхідні · Live chat', 'Входящие · Live chat'],
  language: ['Language', 'Мова', 'Язык'],
  'error.network': ['The server cannot be reached. Check your connection.', 'Сервер недоступний. Перевірте з’єднання.', 'Сервер недоступен. Проверьте соединение.'],
  'error.request': ['Request failed ({status})', 'Запит не вдався ({status})', 'Запрос не удался ({status})'],
  'error.generic': ['Something went wrong', 'Щось пішло не так', 'Что-то пошло не так'],
  'field.name': ['Name', 'Ім’я', 'Имя'],
  'field.email': ['Email', 'Email', 'Email'],
  'field.password': ['Password', 'Пароль', 'Пароль'],
  'field.phone': ['Phone', 'Телефон', 'Телефон'],
  'field.status': ['Status', 'Статус', 'Статус'],
  'error.page': ['Could not load this page', 'Не вдалося завантажити сторінку', 'Не удалось загрузить страницу'],

  'login.heading': ['Sign in to your inbox', 'Вхід до вхідних', 'Вход во входящие'],
  'login.submit': ['Sign in', 'Увійти', 'Войти'],
  'login.failed': ['Sign-in failed', 'Не вдалося увійти', 'Не удалось войти'],
  'login.hint': ['First run? The admin email and password are printed in the server console.', 'Перший запуск? Email і пароль адміністратора виведено в консолі сервера.', 'Первый запуск? Email и пароль администратора выведены в консоли сервера.'],

  'nav.main': ['Main', 'Головне меню', 'Главное меню'],
  'nav.inbox': ['Inbox', 'Вхідні', 'Входящие'],
  'nav.stats': ['Statistics', 'Статистика', 'Статистика'],
  'nav.users': ['Users', 'Користувачі', 'Пользователи'],
  'nav.sites': ['Sites', 'Сайти', 'Сайты'],
  'nav.sound': ['Sound on new chat', 'Звук при новому чаті', 'Звук при новом чате'],
  'nav.signOut': ['Sign out', 'Вийти', 'Выйти'],
  'nav.canned': ['Canned responses', 'Шаблони відповідей', 'Шаблоны ответов'],
  'availability.label': ['Availability', 'Доступність', 'Доступность'],
  'availability.online': ['Online', 'Онлайн', 'Онлайн'],
  'availability.away': ['Away', 'Відійшов', 'Отошёл'],
  'presence.online': ['online', 'онлайн', 'онлайн'],
  'presence.away': ['away', 'відійшов', 'отошёл'],
  'presence.offline': ['offline', 'офлайн', 'офлайн'],
  'nav.offline': ['Live updates are offline. Reconnecting… (the list refreshes every few seconds meanwhile)', 'Оновлення наживо недоступні. Перепідключаємося… (тим часом список оновлюється кожні кілька секунд)', 'Обновления в реальном времени недоступны. Переподключаемся… (пока список обновляется каждые несколько секунд)'],
  'role.admin': ['admin', 'адміністратор', 'администратор'],
  'role.agent': ['agent', 'агент', 'агент'],
  'status.open': ['open', 'відкритий', 'открыт'],
  'status.closed': ['closed', 'закритий', 'закрыт'],

  'inbox.chats': ['Chats', 'Чати', 'Чаты'],
  'inbox.searchPlaceholder': ['Search name, phone, text…', 'Пошук: ім’я, телефон, текст…', 'Поиск: имя, телефон, текст…'],
  'inbox.search': ['Search chats', 'Пошук чатів', 'Поиск чатов'],
  'inbox.all': ['All chats', 'Усі чати', 'Все чаты'],
  'inbox.open': ['Open', 'Відкриті', 'Открытые'],
  'inbox.closed': ['Closed', 'Закриті', 'Закрытые'],
  'inbox.unreadOnly': ['Unread', 'Непрочитані', 'Непрочитанные'],
  'inbox.fromDate': ['From date', 'З дати', 'С даты'],
  'inbox.toDate': ['To date', 'По дату', 'По дату'],
  'inbox.you': ['You: {text}', 'Ви: {text}', 'Вы: {text}'],
  'inbox.noMessages': ['No messages yet', 'Ще немає повідомлень', 'Пока нет сообщений'],
  'inbox.unread': [{ one: '{n} unread', other: '{n} unread' }, { one: '{n} непрочитане', few: '{n} непрочитані', many: '{n} непрочитаних', other: '{n} непрочитаного' }, { one: '{n} непрочитанное', few: '{n} непрочитанных', many: '{n} непрочитанных', other: '{n} непрочитанного' }],
  'inbox.noMatch': ['No chats match these filters.', 'Немає чатів за цими фільтрами.', 'Нет чатов по этим фильтрам.'],
  'inbox.empty': ['No chats yet. They appear here the moment a visitor writes.', 'Чатів ще немає. Вони з’являться тут, щойно відвідувач напише.', 'Чатов пока нет. Они появятся здесь, как только посетитель напишет.'],
  'inbox.newer': ['‹ Newer', '‹ Новіші', '‹ Новее'],
  'inbox.older': ['Older ›', 'Старіші ›', 'Старее ›'],
  'inbox.range': ['{first}–{last} of {total}', '{first}–{last} з {total}', '{first}–{last} из {total}'],
  'inbox.visitor': ['Visitor {id}', 'Відвідувач {id}', 'Посетитель {id}'],
  'inbox.assignment': ['Assignment', 'Призначення', 'Назначение'],
  'inbox.mine': ['Mine', 'Мої', 'Мои'],
  'inbox.unassigned': ['Unassigned', 'Непризначені', 'Неназначенные'],
  'inbox.everyone': ['All', 'Усі', 'Все'],
  'inbox.label': ['Label', 'Мітка', 'Метка'],
  'inbox.anyLabel': ['Any label', 'Будь-яка мітка', 'Любая метка'],
  'inbox.assignedTo': ['Assigned to {name}', 'Призначено: {name}', 'Назначено: {name}'],

  'conv.region': ['Conversation', 'Розмова', 'Разговор'],
  'conv.pick': ['Pick a chat on the left to read and answer it.', 'Оберіть чат ліворуч, щоб прочитати його й відповісти.', 'Выберите чат слева, чтобы прочитать его и ответить.'],
  'conv.messagesWith': ['Messages with {name}', 'Повідомлення з {name}', 'Сообщения с {name}'],
  'conv.replyPlaceholder': ['Write a reply… (Enter sends, Shift+Enter for a new line)', 'Напишіть відповідь… (Enter надсилає, Shift+Enter — новий рядок)', 'Напишите ответ… (Enter отправляет, Shift+Enter — новая строка)'],
  'conv.closedPlaceholder': ['This chat is closed', 'Цей чат закрито', 'Этот чат закрыт'],
  'conv.reply': ['Reply', 'Відповідь', 'Ответ'],
  'conv.send': ['Send', 'Надіслати', 'Отправить'],
  'conv.notSent': ['Not sent', 'Не надіслано', 'Не отправлено'],
  'conv.back': ['Back to chats', 'Назад до чатів', 'Назад к чатам'],
  'conv.close': ['Close chat', 'Закрити чат', 'Закрыть чат'],
  'conv.details': ['Contact details', 'Контактні дані', 'Контактные данные'],
  'conv.page': ['Page', 'Сторінка', 'Страница'],
  'conv.started': ['Started', 'Почато', 'Начат'],
  'conv.closedAt': ['Closed', 'Закрито', 'Закрыт'],
  'conv.attach': ['Attach a file', 'Прикріпити файл', 'Прикрепить файл'],
  'conv.files': ['Files to send', 'Файли до надсилання', 'Файлы к отправке'],
  'conv.uploading': ['Uploading {name}', 'Завантаження {name}', 'Загрузка {name}'],
  'conv.cancelUpload': ['Cancel upload of {name}', 'Скасувати завантаження {name}', 'Отменить загрузку {name}'],
  'conv.removeFile': ['Remove {name}', 'Прибрати {name}', 'Убрать {name}'],
  'conv.uploadFailed': ['{name}: not uploaded ({reason})', '{name}: не завантажено ({reason})', '{name}: не загружено ({reason})'],
  'conv.tooManyFiles': ['At most {n} files per message', 'Не більше {n} файлів в одному повідомленні', 'Не больше {n} файлов в одном сообщении'],
  'conv.stillUploading': ['Wait until the files are uploaded', 'Зачекайте, доки файли завантажаться', 'Подождите, пока файлы загрузятся'],
  'conv.dropHint': ['Drop files to attach them', 'Перетягніть файли, щоб прикріпити', 'Перетащите файлы, чтобы прикрепить'],
  'conv.typing': ['{name} is typing…', '{name} друкує…', '{name} печатает…'],
  'conv.seen': ['Seen', 'Переглянуто', 'Просмотрено'],
  'inbox.youSeen': ['You: {text} · Seen', 'Ви: {text} · Переглянуто', 'Вы: {text} · Просмотрено'],
  'conv.assignToMe': ['Assign to me', 'Призначити мені', 'Назначить мне'],
  'conv.unassign': ['Unassign', 'Зняти призначення', 'Снять назначение'],
  'conv.assignee': ['Assigned to', 'Призначено', 'Назначено'],
  'conv.nobody': ['Nobody', 'Нікому', 'Никому'],
  'conv.notAssigned': ['Nobody has this chat yet', 'Чат ще ніхто не взяв', 'Чат ещё никто не взял'],
  'conv.you': ['{name} (you)', '{name} (ви)', '{name} (вы)'],
  'conv.privateNote': ['Private note', 'Приватна нотатка', 'Приватная заметка'],
  'conv.noteHint': ['Private note: only your team sees it, never the visitor.', 'Приватна нотатка: її бачить лише ваша команда, ніколи не відвідувач.', 'Приватная заметка: её видит только ваша команда, никогда не посетитель.'],
  'conv.notePlaceholder': ['Write a private note for your team… (Enter adds it)', 'Напишіть приватну нотатку для команди… (Enter додає)', 'Напишите приватную заметку для команды… (Enter добавляет)'],
  'conv.addNote': ['Add note', 'Додати нотатку', 'Добавить заметку'],
  'conv.labels': ['Labels', 'Мітки', 'Метки'],
  'conv.labelsPlaceholder': ['Add a label, press Enter', 'Додайте мітку, натисніть Enter', 'Добавьте метку, нажмите Enter'],
  'conv.removeLabel': ['Remove label {name}', 'Прибрати мітку {name}', 'Убрать метку {name}'],
  'conv.labelRule': ['A label is 1–32 letters, digits, _ or -.', 'Мітка — це 1–32 літери, цифри, _ або -.', 'Метка — это 1–32 буквы, цифры, _ или -.'],
  'conv.cannedHint': ['Type / for canned responses', 'Наберіть / для шаблонів відповідей', 'Наберите / для шаблонов ответов'],
  'conv.cannedCount': [{ one: '{n} canned response matches; arrows to choose, Enter or Tab to insert', other: '{n} canned responses match; arrows to choose, Enter or Tab to insert' }, { one: '{n} шаблон підходить; стрілки — вибір, Enter або Tab — вставити', few: '{n} шаблони підходять; стрілки — вибір, Enter або Tab — вставити', many: '{n} шаблонів підходять; стрілки — вибір, Enter або Tab — вставити', other: '{n} шаблону підходить; стрілки — вибір, Enter або Tab — вставити' }, { one: '{n} шаблон подходит; стрелки — выбор, Enter или Tab — вставить', few: '{n} шаблона подходят; стрелки — выбор, Enter или Tab — вставить', many: '{n} шаблонов подходят; стрелки — выбор, Enter или Tab — вставить', other: '{n} шаблона подходит; стрелки — выбор, Enter или Tab — вставить' }],
  'sender.agent': ['agent', 'агент', 'агент'],
  'sender.bot': ['bot', 'бот', 'бот'],
  'sender.system': ['system', 'система', 'система'],

  'stats.from': ['Stats from date', 'Статистика з дати', 'Статистика с даты'],
  'stats.to': ['Stats to date', 'Статистика по дату', 'Статистика по дату'],
  'stats.sessions': ['Sessions', 'Сесії', 'Сессии'],
  'stats.open': ['Open now', 'Відкриті зараз', 'Открыто сейчас'],
  'stats.today': ['Today', 'Сьогодні', 'Сегодня'],
  'stats.unanswered': ['Unanswered', 'Без відповіді', 'Без ответа'],
  'stats.messages': ['Messages', 'Повідомлення', 'Сообщения'],
  'stats.firstAvg': ['First response, average', 'Перша відповідь, у середньому', 'Первый ответ, в среднем'],
  'stats.firstMedian': ['First response, median', 'Перша відповідь, медіана', 'Первый ответ, медиана'],
  'stats.perDay': ['Sessions per day', 'Сесії за днями', 'Сессии по дням'],
  'stats.dayCount': [{ one: '{date}: {n} session', other: '{date}: {n} sessions' }, { one: '{date}: {n} сесія', few: '{date}: {n} сесії', many: '{date}: {n} сесій', other: '{date}: {n} сесії' }, { one: '{date}: {n} сессия', few: '{date}: {n} сессии', many: '{date}: {n} сессий', other: '{date}: {n} сессии' }],

  'users.user': ['User', 'Користувач', 'Пользователь'],
  'users.role': ['Role', 'Роль', 'Роль'],
  'users.actions': ['Actions', 'Дії', 'Действия'],
  'users.roleOf': ['Role of {name}', 'Роль: {name}', 'Роль: {name}'],
  'users.active': ['active', 'активний', 'активен'],
  'users.disabled': ['disabled', 'вимкнений', 'отключён'],
  'users.you': ['you', 'ви', 'вы'],
  'users.enable': ['Enable', 'Увімкнути', 'Включить'],
  'users.disable': ['Disable', 'Вимкнути', 'Отключить'],
  'users.add': ['Add a teammate', 'Додати колегу', 'Добавить коллегу'],
  'users.passwordHint': ['Password (8+ characters)', 'Пароль (від 8 символів)', 'Пароль (от 8 символов)'],
  'users.submit': ['Add user', 'Додати користувача', 'Добавить пользователя'],
  'users.sites': ['Sites', 'Сайти', 'Сайты'],
  'users.sitesOf': ['Sites of {name}', 'Сайти: {name}', 'Сайты: {name}'],
  'users.allSites': ['All sites', 'Усі сайти', 'Все сайты'],
  'users.saveSites': ['Save sites', 'Зберегти сайти', 'Сохранить сайты'],
  'users.noSite': ['No site', 'Жодного сайту', 'Ни одного сайта'],
  'users.siteCount': [{ one: '{n} site', other: '{n} sites' }, { one: '{n} сайт', few: '{n} сайти', many: '{n} сайтів', other: '{n} сайту' }, { one: '{n} сайт', few: '{n} сайта', many: '{n} сайтов', other: '{n} сайта' }],
  'users.sitesHint': ['Admins see every chat; sites decide where they are counted as available and can be assigned.', 'Адміністратори бачать усі чати; сайти визначають, де їх враховано як доступних і кому призначати чати.', 'Администраторы видят все чаты; сайты определяют, где их учитывают как доступных и кому назначать чаты.'],

  'canned.intro': ['In the reply box, type / and the first letters of a shortcut, then Enter or Tab. {{visitor.name}} and {{agent.name}} are filled in.', 'У полі відповіді наберіть / і перші літери скорочення, потім Enter або Tab. {{visitor.name}} і {{agent.name}} підставляються самі.', 'В поле ответа наберите / и первые буквы сокращения, затем Enter или Tab. {{visitor.name}} и {{agent.name}} подставляются сами.'],
  'canned.shortcut': ['Shortcut', 'Скорочення', 'Сокращение'],
  'canned.shortcutHint': ['lower-case letters, digits, _ and -', 'малі латинські літери, цифри, _ і -', 'строчные латинские буквы, цифры, _ и -'],
  'canned.text': ['Text', 'Текст', 'Текст'],
  'canned.site': ['Site', 'Сайт', 'Сайт'],
  'canned.shared': ['All sites (shared)', 'Усі сайти (спільний)', 'Все сайты (общий)'],
  'canned.shortcutOf': ['Shortcut of /{shortcut}', 'Скорочення /{shortcut}', 'Сокращение /{shortcut}'],
  'canned.textOf': ['Text of /{shortcut}', 'Текст /{shortcut}', 'Текст /{shortcut}'],
  'canned.siteOf': ['Site of /{shortcut}', 'Сайт /{shortcut}', 'Сайт /{shortcut}'],
  'canned.save': ['Save /{shortcut}', 'Зберегти /{shortcut}', 'Сохранить /{shortcut}'],
  'canned.delete': ['Delete /{shortcut}', 'Видалити /{shortcut}', 'Удалить /{shortcut}'],
  'canned.deleteConfirm': ['Delete the canned response /{shortcut}?', 'Видалити шаблон /{shortcut}?', 'Удалить шаблон /{shortcut}?'],
  'canned.empty': ['No canned responses yet.', 'Шаблонів ще немає.', 'Шаблонов пока нет.'],
  'canned.add': ['Add a canned response', 'Додати шаблон', 'Добавить шаблон'],
  'canned.submit': ['Add canned response', 'Додати шаблон', 'Добавить шаблон'],
  'canned.saved': ['Saved', 'Збережено', 'Сохранено'],

  'sites.since': ['since {date}', 'з {date}', 'с {date}'],
  'sites.apiKey': ['API key', 'API-ключ', 'API-ключ'],
  'sites.origins': ['Allowed origins', 'Дозволені джерела (origins)', 'Разрешённые источники (origins)'],
  'sites.originsOf': ['Allowed origins of {name}', 'Дозволені джерела сайту {name}', 'Разрешённые источники сайта {name}'],
  'sites.originsHint': ['https://shop.example (or * for any)', 'https://shop.example (або * для будь-якого)', 'https://shop.example (или * для любого)'],
  'sites.save': ['Save', 'Зберегти', 'Сохранить'],
  'sites.rotate': ['Rotate key and secret', 'Замінити ключ і секрет', 'Заменить ключ и секрет'],
  'sites.rotateConfirm': ['New key and secret for {name}? The old ones stop working at once.', 'Новий ключ і секрет для {name}? Старі одразу перестануть працювати.', 'Новый ключ и секрет для {name}? Старые сразу перестанут работать.'],
  'sites.secret': ['API secret (shown once, for server-to-server calls): ', 'API-секрет (показано один раз, для запитів сервер–сервер): ', 'API-секрет (показан один раз, для запросов сервер–сервер): '],
  'sites.copy': ['Copy', 'Копіювати', 'Копировать'],
  'sites.copied': ['Copied', 'Скопійовано', 'Скопировано'],
  'sites.copyFailed': ['Select and copy', 'Виділіть і скопіюйте', 'Выделите и скопируйте'],
  'sites.name': ['Site name', 'Назва сайту', 'Название сайта'],
  'sites.add': ['Add a site', 'Додати сайт', 'Добавить сайт'],
  'sites.submit': ['Create site', 'Створити сайт', 'Создать сайт'],
  'sites.legacyWarning': [
    'This site accepts its API secret from browsers, for widgets built on the original set-up guide, which put the secret in page code. Anyone who opens such a page can copy the secret and read every chat of this site. Replace that widget with the one-line snippet above (it uses a token per visitor), then stop accepting the secret from browsers.',
    'Цей сайт приймає свій API-секрет від браузерів — для віджетів за початковою інструкцією, які вбудовують секрет у код сторінки. Будь-хто, хто відкриє таку сторінку, може скопіювати секрет і прочитати всі чати цього сайту. Замініть той віджет однорядковим фрагментом вище (він використовує токен для кожного відвідувача), а потім вимкніть приймання секрету від браузерів.',
    'Этот сайт принимает свой API-секрет от браузеров — для виджетов по исходной инструкции, которые встраивают секрет в код страницы. Любой, кто откроет такую страницу, может скопировать секрет и прочитать все чаты этого сайта. Замените тот виджет однострочным фрагментом выше (он использует токен для каждого посетителя), а затем отключите приём секрета от браузеров.',
  ],
  'sites.legacyOff': ['Stop accepting the secret from browsers', 'Не приймати секрет від браузерів', 'Не принимать секрет от браузеров'],

  'nav.settings': ['Settings', 'Налаштування', 'Настройки'],
  'backup.heading': ['Backups', 'Резервні копії', 'Резервные копии'],
  'backup.schedule': ['Schedule', 'Розклад', 'Расписание'],
  'backup.every': [{ one: 'Every {n} hour, keeping the newest {keep}', other: 'Every {n} hours, keeping the newest {keep}' }, { one: 'Кожну {n} годину, зберігаються {keep} найновіших', few: 'Кожні {n} години, зберігаються {keep} найновіших', many: 'Кожні {n} годин, зберігаються {keep} найновіших', other: 'Кожні {n} години, зберігаються {keep} найновіших' }, { one: 'Каждый {n} час, хранятся {keep} самых новых', few: 'Каждые {n} часа, хранятся {keep} самых новых', many: 'Каждые {n} часов, хранятся {keep} самых новых', other: 'Каждые {n} часа, хранятся {keep} самых новых' }],
  'backup.off': ['Off. Set BACKUP_DIR and BACKUP_EVERY_HOURS on the server to take backups on a schedule.', 'Вимкнено. Задайте на сервері BACKUP_DIR і BACKUP_EVERY_HOURS, щоб робити копії за розкладом.', 'Выключено. Задайте на сервере BACKUP_DIR и BACKUP_EVERY_HOURS, чтобы делать копии по расписанию.'],
  'backup.folder': ['Folder', 'Тека', 'Папка'],
  'backup.encryption': ['Encryption', 'Шифрування', 'Шифрование'],
  'backup.encrypted': ['AES-256-GCM with BACKUP_KEY', 'AES-256-GCM ключем BACKUP_KEY', 'AES-256-GCM ключом BACKUP_KEY'],
  'backup.notEncrypted': ['Off. Backups hold password hashes and site secrets: set BACKUP_KEY to encrypt them.', 'Вимкнено. Копії містять хеші паролів і секрети сайтів: задайте BACKUP_KEY, щоб шифрувати їх.', 'Выключено. Копии содержат хеши паролей и секреты сайтов: задайте BACKUP_KEY, чтобы шифровать их.'],
  'backup.last': ['Last backup', 'Остання копія', 'Последняя копия'],
  'backup.lastValue': ['{when} · {size} · {file}', '{when} · {size} · {file}', '{when} · {size} · {file}'],
  'backup.none': ['None yet', 'Ще немає', 'Пока нет'],
  'backup.next': ['Next backup', 'Наступна копія', 'Следующая копия'],
  'backup.failed': ['The last attempt failed ({when}): {message}', 'Остання спроба не вдалася ({when}): {message}', 'Последняя попытка не удалась ({when}): {message}'],
  'backup.manual': ['A backup can be taken at any time on the server with: npm run cli -- backup --out FILE (README, "Backing up").', 'Копію можна зробити будь-коли на сервері: npm run cli -- backup --out FILE (README, «Backing up»).', 'Копию можно сделать в любой момент на сервере: npm run cli -- backup --out FILE (README, «Backing up»).'],
  'nav.privacy': ['Privacy', 'Конфіденційність', 'Конфиденциальность'],
  'nav.audit': ['Audit log', 'Журнал аудиту', 'Журнал аудита'],
  'rating.label': ['Rating', 'Оцінка', 'Оценка'],
  'rating.outOf5': ['{score} of 5 stars', '{score} з 5 зірок', '{score} из 5 звёзд'],
  'inbox.rating': ['Rating', 'Оцінка', 'Оценка'],
  'inbox.anyRating': ['Any rating', 'Будь-яка оцінка', 'Любая оценка'],
  'inbox.rated': ['Rated', 'З оцінкою', 'С оценкой'],
  'inbox.notRated': ['Not rated', 'Без оцінки', 'Без оценки'],
  'inbox.stars': ['{n} stars', '{n} зірок', '{n} звёзд'],
  'stats.csat': ['Customer satisfaction', 'Задоволеність клієнтів', 'Удовлетворённость клиентов'],
  'stats.csatCount': ['Ratings', 'Оцінки', 'Оценки'],
  'stats.csatDistribution': ['Ratings by stars', 'Оцінки за зірками', 'Оценки по звёздам'],
  'privacy.exportSession': ['Export conversation', 'Експортувати розмову', 'Экспортировать разговор'],
  'privacy.eraseSession': ['Erase conversation', 'Стерти розмову', 'Стереть разговор'],
  'privacy.eraseSessionConfirm': ['Erase this conversation with all its messages, notes, files and rating? This cannot be undone.', 'Стерти цю розмову з усіма повідомленнями, нотатками, файлами й оцінкою? Це не можна скасувати.', 'Стереть этот разговор со всеми сообщениями, заметками, файлами и оценкой? Это нельзя отменить.'],
  'privacy.erasedHere': ['This conversation was erased.', 'Цю розмову стерто.', 'Этот разговор стёрт.'],
  'privacy.retention': ['Keep closed chats (days)', 'Зберігати закриті чати (днів)', 'Хранить закрытые чаты (дней)'],
  'privacy.retentionHint': ['Empty: keep them. Older chats are erased by the hourly retention job.', 'Порожньо: зберігати. Старіші чати стирає щогодинне завдання.', 'Пусто: хранить. Более старые чаты стирает ежечасное задание.'],
  'privacy.saveRetention': ['Save retention', 'Зберегти строк', 'Сохранить срок'],
  'privacy.saved': ['Saved', 'Збережено', 'Сохранено'],
  'privacy.visitorId': ['Visitor ID', 'ID відвідувача', 'ID посетителя'],
  'privacy.eraseVisitor': ['Erase visitor', 'Стерти відвідувача', 'Стереть посетителя'],
  'privacy.eraseVisitorConfirm': ['Erase every conversation of this visitor on this site? This cannot be undone.', 'Стерти всі розмови цього відвідувача на сайті? Це не можна скасувати.', 'Стереть все разговоры этого посетителя на сайте? Это нельзя отменить.'],
  'privacy.erased': ['Conversations erased: {n}', 'Стерто розмов: {n}', 'Стёрто разговоров: {n}'],
  'privacy.exportSite': ['Export all conversations', 'Експортувати всі розмови', 'Экспортировать все разговоры'],
  'privacy.exported': ['Export downloaded', 'Експорт завантажено', 'Экспорт загружен'],
  'email.heading': ['Email', 'Email', 'Email'],
  'email.status': ['Status', 'Стан', 'Состояние'],
  'email.off': ['Off. Set SMTP_URL (and EMAIL_FROM) on the server to email replies to away visitors and transcripts.', 'Вимкнено. Задайте на сервері SMTP_URL (і EMAIL_FROM), щоб надсилати відповіді відсутнім відвідувачам і стенограми.', 'Выключено. Задайте на сервере SMTP_URL (и EMAIL_FROM), чтобы отправлять ответы отсутствующим посетителям и стенограммы.'],
  'email.server': ['SMTP server', 'SMTP-сервер', 'SMTP-сервер'],
  'email.from': ['Sender', 'Відправник', 'Отправитель'],
  'email.away': ['Visitor counts as away after', 'Відвідувач вважається відсутнім через', 'Посетитель считается отсутствующим через'],
  'email.batch': ['Replies gathered into one email for', 'Відповіді збираються в один лист протягом', 'Ответы собираются в одно письмо в течение'],
  'email.link': ['Link in the email works for', 'Посилання в листі діє', 'Ссылка в письме действует'],
  'audit.when': ['When', 'Коли', 'Когда'],
  'audit.who': ['Who', 'Хто', 'Кто'],
  'audit.action': ['Action', 'Дія', 'Действие'],
  'audit.target': ['Target', "Об'єкт", 'Объект'],
  'audit.details': ['Details', 'Подробиці', 'Подробности'],
  'audit.system': ['Server', 'Сервер', 'Сервер'],
  'audit.older': ['Older entries', 'Старіші записи', 'Более старые записи'],
} as const satisfies Record<string, Entry>

type Key = keyof typeof TEXTS
export type TextKey = { [K in Key]: (typeof TEXTS)[K][0] extends string ? K : never }[Key]
export type PluralKey = Exclude<Key, TextKey>
type Vars = Record<string, string | number>

const STORAGE_KEY = 'chatAdminLocale'
const isLocale = (v: unknown): v is Locale => LOCALES.includes(v as Locale)

/** The remembered choice, else the first of the browser's languages we speak, else English. */
function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY)
  if (isLocale(saved)) return saved
  for (const tag of navigator.languages ?? [navigator.language]) {
    const primary = tag.split('-')[0]?.toLowerCase()
    if (isLocale(primary)) return primary
  }
  return 'en'
}

let current: Locale = initialLocale()
document.documentElement.lang = current
const listeners = new Set<() => void>()

export const locale = (): Locale => current

export function setLocale(next: Locale): void {
  if (next === current) return
  current = next
  localStorage.setItem(STORAGE_KEY, next)
  document.documentElement.lang = next
  for (const fn of listeners) fn()
}

/** Calls `fn` after each language change; returns the unsubscribe. */
export function onLocaleChange(fn: () => void): () => void {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

const fill = (text: string, vars: Vars) =>
  text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = vars[name]
    return v === undefined ? whole : typeof v === 'number' ? new Intl.NumberFormat(current).format(v) : v
  })

/** The text under `key` in the current language, with `{name}` variables filled in. */
export function t(key: TextKey, vars: Vars = {}): string {
  return fill(TEXTS[key][LOCALES.indexOf(current)] as string, vars)
}

/** The form of `key` for `n` in the current language (Intl.PluralRules), with `{n}` and other variables filled in. */
export function plural(key: PluralKey, n: number, vars: Vars = {}): string {
  const forms = TEXTS[key][LOCALES.indexOf(current)] as Partial<Record<Intl.LDMLPluralRule, string>> & { other: string }
  return fill(forms[new Intl.PluralRules(current).select(n)] ?? forms.other, { ...vars, n })
}

/** The "Language" select: each option in its own language, the choice remembered. */
export function languageSelect(): HTMLSelectElement {
  const select: HTMLSelectElement = h('select', { class: 'language', 'aria-label': t('language'), onchange: () => setLocale(select.value as Locale) },
    LOCALES.map((l) => h('option', { value: l, lang: l, selected: l === current }, LANGUAGE_NAMES[l])))
  return select
}
